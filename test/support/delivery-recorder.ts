import { decodeDeliveryEvent } from '@chat/contracts';
import { connectRedis, type Keys, type Redis } from '@chat/store';

/** One delivery as a gateway holding `user`'s sockets would hand it over: to whom, and the raw event. */
export interface ChannelEvent {
  user: string;
  payload: Buffer;
}

/**
 * Records every delivery event published on any conversation channel of `keys`, in arrival order,
 * once per member it names (what the gateways hand to those members' sockets), on a subscriber
 * connection of its own (a pattern subscription: the tests need not know the conversations up
 * front). An event that cannot be decoded is recorded with user '' so tests see it. Resolves once
 * the subscription is in place; `disconnect()` ends it.
 */
export async function recordDeliveries(redisUrl: string, keys: Keys): Promise<{ received: ChannelEvent[]; connection: Redis }> {
  const received: ChannelEvent[] = [];
  const connection = connectRedis({ url: redisUrl, name: 'test:deliveries', role: 'subscriber' });
  connection.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, payload: Buffer) => {
    const members = decodeDeliveryEvent(payload)?.members ?? [''];
    for (const user of members) received.push({ user, payload });
  });
  await connection.psubscribe(`${keys.conversationChannelPrefix}*`);
  return { received, connection };
}
