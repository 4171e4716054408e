import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeDeliveryEvent, frameOfStored, type Message } from '@chat/contracts';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import {
  connectRedis,
  createConversationStore,
  createDeliveryStore,
  createKeys,
  createMessageStore,
  waitForRedis,
  type Redis,
} from '@chat/store';

let server: RedisServerHandle;
let redis: Redis;
let listener: Redis;
const keys = createKeys('dstest');
const received: { user: string; payload: Buffer }[] = [];

before(async () => {
  server = await startRedisServer({});
  redis = connectRedis({ url: server.url, name: 'test:command', role: 'command' });
  listener = connectRedis({ url: server.url, name: 'test:subscriber', role: 'subscriber' });
  await waitForRedis(redis, 10_000);
  await listener.psubscribe(`${keys.userChannelPrefix}*`);
  listener.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, payload: Buffer) => {
    received.push({ user: channel.toString().slice(keys.userChannelPrefix.length), payload });
  });
});

after(async () => {
  redis?.disconnect();
  listener?.disconnect();
  await server?.dispose();
});

/** Waits until `count` events arrived since `from` (bounded), then returns them. */
async function eventsSince(from: number, count: number): Promise<{ user: string; payload: Buffer }[]> {
  const deadline = Date.now() + 5000;
  while (received.length - from < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  // A little longer, so an extra (unwanted) event would show up too.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return received.slice(from);
}

const conversations = () => createConversationStore(redis, keys);
const messages = () => createMessageStore(redis, keys);
const deliveries = () => createDeliveryStore(redis, keys);

describe('delivery script', () => {
  test('publishes the frame of the stored message, under the current title, to every member once', async () => {
    const title = 'Quotes " back\\slash / slash, ünïcode 💬, new\nline \u0001 ctl';
    const conversation = await conversations().create({ title, createdBy: 'ann', users: ['ann', 'bob', 'cy'] });
    const { message, job } = await messages().append(conversation.id, 'ann', 'hello / "world" ✓');
    const from = received.length;

    assert.deepEqual(await deliveries().deliver(job), { kind: 'published', recipients: 3 });
    const events = await eventsSince(from, 3);
    assert.deepEqual(events.map((e) => e.user).sort(), ['ann', 'bob', 'cy']);
    for (const { payload } of events) {
      const event = decodeDeliveryEvent(payload);
      assert.ok(event, payload.toString());
      assert.equal(event.conversationId, conversation.id);
      assert.equal(event.seq, message.seq);
      assert.equal(event.acceptedAtMs, Date.parse(message.createdAt), 'acceptedAt is when the api accepted it');
      assert.deepEqual(JSON.parse(event.frame.toString('utf8')), {
        type: 'message',
        data: { ...message, conversationTitle: title },
      });
    }

    // Published once: the outbox entry is gone, so a repeated job (retry, stall, sweeper) is a no-op.
    assert.deepEqual(await deliveries().deliver(job), { kind: 'already_delivered' });
    assert.equal((await eventsSince(from, 4)).length, 3);
    assert.equal(await redis.zcard(keys.outbox()), 0);
  });

  test('publishes the header and frame bytes that contracts describe (frameOfStored, for a title cjson encodes alike)', async () => {
    const title = 'plain title, ünïcode 💬 "quoted"';
    const conversation = await conversations().create({ title, createdBy: 'ann', users: ['ann'] });
    const { message, job } = await messages().append(conversation.id, 'ann', 'bytes / "exactly" ✓');
    const [stored] = await redis.zrangebyscore(keys.messages(conversation.id), message.seq, message.seq);
    const from = received.length;

    assert.deepEqual(await deliveries().deliver(job), { kind: 'published', recipients: 1 });
    const [event] = await eventsSince(from, 1);
    const header = `${conversation.id} ${message.seq} ${Date.parse(message.createdAt)} `;
    assert.equal(event?.payload.toString('utf8'), header + frameOfStored(stored!, title));
  });

  test('a member removed before the script runs gets nothing; the title is read at delivery', async () => {
    const conversation = await conversations().create({ title: 'before', createdBy: 'ann', users: ['ann', 'bob'] });
    const { job } = await messages().append(conversation.id, 'ann', 'one');
    await conversations().update(conversation.id, 'ann', { title: 'after', users: ['ann'] });
    const from = received.length;

    assert.deepEqual(await deliveries().deliver(job), { kind: 'published', recipients: 1 });
    const events = await eventsSince(from, 1);
    assert.deepEqual(events.map((e) => e.user), ['ann']);
    const frame = JSON.parse(decodeDeliveryEvent(events[0]!.payload)!.frame.toString()) as { data: { conversationTitle: string } };
    assert.equal(frame.data.conversationTitle, 'after');
  });

  test('a message no longer stored is not published, and its outbox entry is cleared', async () => {
    const conversation = await conversations().create({ title: 't', createdBy: 'ann', users: ['ann'] });
    const { job } = await messages().append(conversation.id, 'ann', 'gone soon');
    await redis.del(keys.messages(conversation.id));
    const from = received.length;

    assert.deepEqual(await deliveries().deliver(job), { kind: 'gone' });
    assert.equal((await eventsSince(from, 1)).length, 0);
    assert.deepEqual(await deliveries().deliver(job), { kind: 'already_delivered' });
  });
});

describe('frameOfStored', () => {
  test('is the frame of the summary (the message plus its conversation title) for any message and title', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.nat(), (text, title, seq) => {
        const message: Message = { id: 'm1', conversationId: 'c1', seq: seq + 1, author: 'ann', text, createdAt: new Date(0).toISOString() };
        const stored = JSON.stringify(message);
        assert.deepEqual(JSON.parse(frameOfStored(stored, title)), { type: 'message', data: { ...message, conversationTitle: title } });
      }),
      { numRuns: 300 },
    );
  });
});
