import { clusterSlot, type Redis } from '@chat/store';

interface Subscription {
  /**
   * Who needs the channel (usernames): the channel is left when the last one releases it. One
   * holder (a user's own channel, a conversation with one member here) is kept as the name
   * itself: tens of thousands of idle users should not cost a Set each.
   */
  holders: string | Set<string>;
  ready: Promise<void>;
}

/** Channels subscribed again per SUBSCRIBE after an outage, so one command stays small. */
const RESUBSCRIBE_BATCH = 1000;

/**
 * This replica's pub/sub subscriptions, on a connection of their own (a subscribed connection can
 * do nothing else), each held by the users that need it. Concurrent first holders of a channel
 * share one SUBSCRIBE; SUBSCRIBE and UNSUBSCRIBE go out on one connection in call order, so a
 * channel released and taken again ends up subscribed. ioredis resubscribes every channel by
 * itself after a reconnect.
 * On Redis Cluster (`sharded`) the channels are shard channels: SSUBSCRIBE, on the connection
 * ioredis keeps to the shard that serves each channel's slot (the publishers SPUBLISH there);
 * ioredis follows a failover or a slot's move to another shard by itself.
 */
export class ChannelSubscriptions {
  private readonly channels = new Map<string, Subscription>();

  private readonly subscribe: (...channels: string[]) => Promise<unknown>;
  private readonly unsubscribe: (channel: string) => Promise<unknown>;

  constructor(
    private readonly redis: Redis,
    private readonly sharded: boolean,
    onMessage: (channel: Buffer, payload: Buffer) => void,
    private readonly onUnsubscribeFailed: (error: unknown) => void,
  ) {
    redis.on(sharded ? 'smessageBuffer' : 'messageBuffer', onMessage);
    this.subscribe = sharded ? (...channels) => redis.ssubscribe(...channels) : (...channels) => redis.subscribe(...channels);
    this.unsubscribe = sharded ? (channel) => redis.sunsubscribe(channel) : (channel) => redis.unsubscribe(channel);
  }

  /** Resolves once this replica receives what is published on `channel`. */
  acquire(channel: string, holder: string): Promise<void> {
    let subscription = this.channels.get(channel);
    if (!subscription) {
      const created: Subscription = { holders: holder, ready: this.subscribe(channel).then(() => undefined) };
      // A failed SUBSCRIBE must not be reused by the next holder.
      created.ready.catch(() => {
        if (this.channels.get(channel) === created) this.channels.delete(channel);
      });
      this.channels.set(channel, created);
      return created.ready;
    }
    const { holders } = subscription;
    if (typeof holders !== 'string') holders.add(holder);
    else if (holders !== holder) subscription.holders = new Set([holders, holder]);
    return subscription.ready;
  }

  /** `holder` no longer needs `channel`; the last holder's release leaves it. */
  release(channel: string, holder: string): void {
    const subscription = this.channels.get(channel);
    if (!subscription) return;
    const { holders } = subscription;
    if (typeof holders === 'string' ? holders !== holder : !holders.delete(holder) || holders.size > 0) return;
    this.channels.delete(channel);
    this.unsubscribe(channel).catch(this.onUnsubscribeFailed);
  }

  /** Subscribes every channel again (harmless if ioredis already did) and waits for the replies. */
  async resubscribeAll(): Promise<void> {
    for (const channels of this.groups()) {
      for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) {
        await this.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH));
      }
    }
  }

  /** The channels in groups one (S)SUBSCRIBE may name: all of them, or on a cluster those of one slot. */
  private groups(): string[][] {
    const channels = [...this.channels.keys()];
    if (!this.sharded) return [channels];
    const bySlot = new Map<number, string[]>();
    for (const channel of channels) {
      const slot = clusterSlot(channel);
      const group = bySlot.get(slot);
      if (group) group.push(channel);
      else bySlot.set(slot, [channel]);
    }
    return [...bySlot.values()];
  }

  get count(): number {
    return this.channels.size;
  }
}
