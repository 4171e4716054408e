import type { Keys, Redis } from '@chat/store';

/**
 * This replica's subscriptions to user channels, on a connection of its own (a subscribed
 * connection can do nothing else). Concurrent first sockets of one user share one SUBSCRIBE;
 * SUBSCRIBE and UNSUBSCRIBE go out on one connection in call order, so a user who leaves and comes
 * back ends up subscribed. ioredis resubscribes every channel by itself after a reconnect.
 */
export class UserChannelSubscriber {
  private readonly subscriptions = new Map<string, Promise<void>>();
  private readonly prefixLength: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    onEvent: (username: string, payload: Buffer) => void,
  ) {
    this.prefixLength = keys.userChannelPrefix.length;
    redis.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      onEvent(channel.toString('latin1', this.prefixLength), payload);
    });
  }

  /** Resolves once this replica receives the user's events. */
  subscribe(username: string): Promise<void> {
    let subscription = this.subscriptions.get(username);
    if (!subscription) {
      subscription = this.redis.subscribe(this.keys.userChannel(username)).then(() => undefined);
      // A failed SUBSCRIBE must not be reused by the next socket of this user.
      subscription.catch(() => {
        if (this.subscriptions.get(username) === subscription) this.subscriptions.delete(username);
      });
      this.subscriptions.set(username, subscription);
    }
    return subscription;
  }

  unsubscribe(username: string): Promise<void> {
    this.subscriptions.delete(username);
    return this.redis.unsubscribe(this.keys.userChannel(username)).then(() => undefined);
  }

  /** Subscribes every channel again (harmless if ioredis already did) and waits for the replies. */
  async resubscribeAll(): Promise<void> {
    const users = [...this.subscriptions.keys()];
    if (users.length > 0) await this.redis.subscribe(...users.map((user) => this.keys.userChannel(user)));
  }

  get count(): number {
    return this.subscriptions.size;
  }
}
