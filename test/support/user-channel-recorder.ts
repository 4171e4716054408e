import { connectRedis, type Keys, type Redis } from '@chat/store';

/** One delivery event as a gateway would receive it: whose channel, and the raw payload. */
export interface ChannelEvent {
  user: string;
  payload: Buffer;
}

/**
 * Records every event published on any user channel of `keys`, in arrival order, on a subscriber
 * connection of its own (a pattern subscription: the tests need not know the members up front).
 * Resolves once the subscription is in place; `disconnect()` ends it.
 */
export async function recordUserChannels(redisUrl: string, keys: Keys): Promise<{ received: ChannelEvent[]; connection: Redis }> {
  const received: ChannelEvent[] = [];
  const connection = connectRedis({ url: redisUrl, name: 'test:user-channels', role: 'subscriber' });
  connection.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, payload: Buffer) => {
    received.push({ user: channel.toString().slice(keys.userChannelPrefix.length), payload });
  });
  await connection.psubscribe(`${keys.userChannelPrefix}*`);
  return { received, connection };
}
