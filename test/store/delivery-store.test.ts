import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_DELIVERY_PARTITIONS, decodeDeliveryEvent, deliveryPartition, frameAs, frameOfStored, type Message } from '@chat/contracts';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import {
  connectRedis,
  createConversationStore,
  createDeliveryStore,
  createKeys,
  createMessageStore,
  createOutbox,
  waitForRedis,
  type Redis,
} from '@chat/store';
import { recordDeliveries, type ChannelEvent } from '../support/delivery-recorder.js';

let server: RedisServerHandle;
let redis: Redis;
let listener: Redis;
let received: ChannelEvent[];
const keys = createKeys('dstest');

before(async () => {
  server = await startRedisServer({});
  redis = connectRedis({ url: server.url, name: 'test:command', role: 'command' });
  await waitForRedis(redis, 10_000);
  ({ received, connection: listener } = await recordDeliveries(server.url, keys));
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
const drainOf = (conversationId: string, limit = 256) => deliveries().drain(deliveryPartition(conversationId), limit);
/** The outbox entry the append script wrote for `message` (`<conversationId> <seq> <messageId> <message>`). */
async function entryOf(partition: number, message: Pick<Message, 'conversationId' | 'seq' | 'id'>): Promise<string> {
  const header = `${message.conversationId} ${message.seq} ${message.id} `;
  const entry = (await redis.zrange(keys.outbox(partition), 0, -1)).find((candidate) => candidate.startsWith(header));
  assert.ok(entry, `outbox entry of seq ${message.seq}`);
  return entry;
}

const NOTHING = { delivered: 0, recipients: 0, gone: 0, malformed: 0, more: false, awake: false, waiting: 0 };

/** Drains every partition, so each test starts with empty outboxes and no wake flag. */
async function drainEverything(): Promise<void> {
  for (let partition = 0; partition < MAX_DELIVERY_PARTITIONS; partition += 1) {
    while ((await deliveries().drain(partition, 1000)).more);
  }
}
beforeEach(drainEverything);

describe('drain script', () => {
  test('publishes the frame of the stored message, under the current title, to every member once', async () => {
    const title = 'Quotes " back\\slash / slash, ünïcode 💬, new\nline \u0001 ctl';
    const conversation = await conversations().create({ title, createdBy: 'ann', users: ['ann', 'bob', 'cy'] });
    const { message } = await messages().append(conversation.id, 'ann', 'hello / "world" ✓');
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 3 });
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

    // Published once: the outbox entry is gone, so a repeated drain (retry, stall, sweeper) is a no-op.
    assert.deepEqual(await drainOf(conversation.id), NOTHING);
    assert.equal((await eventsSince(from, 4)).length, 3);
    assert.equal(await createOutbox(redis, keys).size(), 0);
  });

  test('publishes the header and frame bytes that contracts describe (frameOfStored, for a title cjson encodes alike)', async () => {
    const title = 'plain title, ünïcode 💬 "quoted"';
    const conversation = await conversations().create({ title, createdBy: 'ann', users: ['bob'] });
    const { message } = await messages().append(conversation.id, 'ann', 'bytes / "exactly" ✓');
    const [stored] = await redis.zrangebyscore(keys.messages(conversation.id), message.seq, message.seq);
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 2 });
    const [event] = await eventsSince(from, 2);
    // One event for both members, naming them (in the members set's order).
    const header = `${conversation.id} ${message.seq} ${Date.parse(message.createdAt)} ann,bob ${message.rev} `;
    assert.equal(event?.payload.toString('utf8'), header + frameOfStored(stored!, title));
  });

  test('a member removed before the script runs gets nothing; the title is read at delivery', async () => {
    const conversation = await conversations().create({ title: 'before', createdBy: 'ann', users: ['ann', 'bob'] });
    await messages().append(conversation.id, 'ann', 'one');
    await messages().append(conversation.id, 'ann', 'two');
    await conversations().update(conversation.id, 'ann', { title: 'after', users: ['ann'] });
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 2, recipients: 2 });
    const events = await eventsSince(from, 2);
    assert.deepEqual(events.map((e) => e.user), ['ann', 'ann']);
    for (const { payload } of events) {
      const frame = JSON.parse(decodeDeliveryEvent(payload)!.frame.toString()) as { data: { conversationTitle: string } };
      assert.equal(frame.data.conversationTitle, 'after');
    }
  });

  test('a message of a conversation not found here (keys moving to another cluster node) waits in the outbox; an old one is gone', async () => {
    const conversation = await conversations().create({ title: 't', createdBy: 'ann', users: ['ann'] });
    const { message } = await messages().append(conversation.id, 'ann', 'not here yet');
    const saved = await redis.dumpBuffer(keys.conversation(conversation.id));
    await redis.del(keys.conversation(conversation.id));
    const from = received.length;

    // Neither the conversation nor the tombstone of its deletion: it waits, and nothing else is held up.
    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, waiting: 1 });
    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, waiting: 1 });
    await redis.restore(keys.conversation(conversation.id), 0, saved!);
    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 1 });
    assert.equal((await eventsSince(from, 1)).length, 1);

    // Accepted longer ago than any migration takes: its conversation was deleted before tombstones.
    const partition = deliveryPartition(conversation.id);
    await redis.zadd(keys.outbox(partition), Date.now() - 2 * 3_600_000, `${conversation.id} ${message.seq + 1} m-old`);
    await redis.del(keys.conversation(conversation.id));
    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, gone: 1 });
    assert.deepEqual(await drainOf(conversation.id), NOTHING);
  });

  test('messages still owed when the last member leaves are counted gone: nothing is published, the entries are cleared', async () => {
    const conversation = await conversations().create({ title: 't', createdBy: 'ann', users: ['bob'] });
    await messages().append(conversation.id, 'ann', 'one');
    await messages().append(conversation.id, 'bob', 'two');
    assert.equal(await conversations().leave(conversation.id, 'ann'), 'left');
    assert.equal(await conversations().leave(conversation.id, 'bob'), 'deleted');
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, gone: 2 });
    assert.equal((await eventsSince(from, 1)).length, 0);
    assert.equal(await createOutbox(redis, keys).size(), 0);
  });

  test('a member who left before the script runs is not named', async () => {
    const conversation = await conversations().create({ title: 't', createdBy: 'ann', users: ['bob'] });
    await messages().append(conversation.id, 'ann', 'one');
    await conversations().leave(conversation.id, 'bob');
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 1 });
    assert.deepEqual((await eventsSince(from, 1)).map((e) => e.user), ['ann']);
  });

  test('the entry carries the message: published as stored even if the history was trimmed meanwhile', async () => {
    const conversation = await conversations().create({ title: 't', createdBy: 'ann', users: ['ann'] });
    const { message } = await messages().append(conversation.id, 'ann', 'trimmed before its drain');
    const [stored] = await redis.zrangebyscore(keys.messages(conversation.id), message.seq, message.seq);
    const [entry] = await redis.zrange(keys.outbox(deliveryPartition(conversation.id)), 0, 0);
    assert.equal(entry, `${conversation.id} ${message.seq} ${message.id} ${stored}`);
    await redis.del(keys.messages(conversation.id));
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 1 });
    const [event] = await eventsSince(from, 1);
    assert.equal(decodeDeliveryEvent(event!.payload)!.frame.toString(), frameOfStored(stored!, 't'));
  });

  test('an entry of an earlier release (without its message) is published from the history, or counted gone', async () => {
    const conversation = await conversations().create({ title: 'old', createdBy: 'ann', users: ['ann'] });
    const { message } = await messages().append(conversation.id, 'ann', 'from the history');
    const partition = deliveryPartition(conversation.id);
    const [entry] = await redis.zrange(keys.outbox(partition), 0, 0, 'WITHSCORES');
    const old = `${conversation.id} ${message.seq} ${message.id}`;
    await redis.multi().zrem(keys.outbox(partition), entry!).zadd(keys.outbox(partition), Date.now(), old).zadd(keys.outbox(partition), Date.now(), `${conversation.id} 99 lost`).exec();
    const [stored] = await redis.zrangebyscore(keys.messages(conversation.id), message.seq, message.seq);
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 1, gone: 1 });
    const [event] = await eventsSince(from, 1);
    assert.equal(decodeDeliveryEvent(event!.payload)!.frame.toString(), frameOfStored(stored!, 'old'));
  });

  test("publishes each conversation's messages in seq order, even when acceptance times tie or run backwards", async () => {
    const conversation = await conversations().create({ title: 'order', createdBy: 'ann', users: ['ann'] });
    const partition = deliveryPartition(conversation.id);
    const appended = [];
    for (let i = 0; i < 12; i += 1) appended.push((await messages().append(conversation.id, 'ann', `m${i}`)).message);
    // As two api replicas with skewed clocks would score them: later seqs accepted "earlier", and
    // ties, where the entry text orders "c 10 x" before "c 9 y".
    for (const [i, message] of appended.entries()) {
      await redis.zadd(keys.outbox(partition), 1000 - Math.floor(i / 3), await entryOf(partition, message));
    }
    const from = received.length;

    assert.deepEqual(await deliveries().drain(partition, 256), { ...NOTHING, delivered: 12, recipients: 12 });
    const seqs = (await eventsSince(from, 12)).map(({ payload }) => decodeDeliveryEvent(payload)!.seq);
    assert.deepEqual(seqs, appended.map((m) => m.seq));
  });

  test('edits and deletions are published as message_updated, after the changes before them, in rev order', async () => {
    const conversation = await conversations().create({ title: 'edits', createdBy: 'ann', users: ['ann', 'bob'] });
    const partition = deliveryPartition(conversation.id);
    await messages().append(conversation.id, 'ann', 'one');
    await messages().append(conversation.id, 'bob', 'two');
    const { message: edited } = await messages().change(conversation.id, 1, 'ann', { text: 'one, fixed' });
    await messages().append(conversation.id, 'ann', 'three');
    const { message: tombstone } = await messages().change(conversation.id, 2, 'bob', 'delete');
    // Acceptance times run backwards: the rev still decides the order.
    const entries = await redis.zrange(keys.outbox(partition), 0, -1);
    for (const [i, entry] of entries.filter((e) => e.startsWith(`${conversation.id} `)).entries()) await redis.zadd(keys.outbox(partition), 1000 - i, entry);
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 5, recipients: 10 });
    const events = (await eventsSince(from, 10)).filter((e) => e.user === 'bob').map(({ payload }) => decodeDeliveryEvent(payload)!);
    assert.deepEqual(
      events.map((e) => [e.seq, e.rev, e.updated]),
      [[1, 1, false], [2, 2, false], [1, 3, true], [3, 4, false], [2, 5, true]],
    );
    assert.deepEqual(JSON.parse(events[2]!.frame.toString()), { type: 'message_updated', data: { ...edited, conversationTitle: 'edits' } });
    assert.deepEqual(JSON.parse(events[4]!.frame.toString()), { type: 'message_updated', data: { ...tombstone, conversationTitle: 'edits' } });
  });

  test('an entry of an earlier release carrying a message without rev is published without one, before the others', async () => {
    const conversation = await conversations().create({ title: 'legacy', createdBy: 'ann', users: ['ann'] });
    const partition = deliveryPartition(conversation.id);
    const { message } = await messages().append(conversation.id, 'ann', 'new');
    const legacy = JSON.stringify({ id: 'legacy1', conversationId: conversation.id, seq: 7, author: 'ann', text: 'old', createdAt: message.createdAt });
    await redis.zadd(keys.outbox(partition), 1, `${conversation.id} 7 legacy1 ${legacy}`);
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 2, recipients: 2 });
    const events = (await eventsSince(from, 2)).map(({ payload }) => decodeDeliveryEvent(payload)!);
    assert.deepEqual(events.map((e) => [e.seq, e.rev]), [[7, undefined], [1, 1]]);
    assert.equal(events[0]!.frame.toString(), frameOfStored(legacy, 'legacy'));
  });

  test('takes at most `limit` entries, oldest first, and says whether more are owed', async () => {
    const conversation = await conversations().create({ title: 'limit', createdBy: 'ann', users: ['ann', 'bob'] });
    for (let i = 0; i < 7; i += 1) await messages().append(conversation.id, 'ann', `m${i}`);
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id, 3), { ...NOTHING, delivered: 3, recipients: 6, more: true });
    assert.deepEqual(await drainOf(conversation.id, 3), { ...NOTHING, delivered: 3, recipients: 6, more: true });
    assert.deepEqual(await drainOf(conversation.id, 3), { ...NOTHING, delivered: 1, recipients: 2 });
    const seqs = (await eventsSince(from, 14)).filter((e) => e.user === 'bob').map(({ payload }) => decodeDeliveryEvent(payload)!.seq);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7]);
  });

  test('concurrent drains of one partition publish every message exactly once', async () => {
    const conversationsOfTest = await Promise.all(
      ['a', 'b', 'c'].map((title) => conversations().create({ title, createdBy: 'ann', users: ['ann', 'bob'] })),
    );
    const posted = [];
    for (let i = 0; i < 60; i += 1) {
      const conversation = conversationsOfTest[i % 3]!;
      posted.push((await messages().append(conversation.id, 'ann', `m${i}`)).message);
    }
    const from = received.length;

    const partitions = [...new Set(conversationsOfTest.map((c) => deliveryPartition(c.id)))];
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => deliveries().drain(partitions[i % partitions.length]!, 4)),
    );
    await drainEverything();
    const delivered = (await eventsSince(from, 120)).map(({ user, payload }) => {
      const event = decodeDeliveryEvent(payload)!;
      return `${user} ${event.conversationId} ${event.seq}`;
    });
    assert.equal(delivered.length, 120, 'two members, sixty messages');
    assert.equal(new Set(delivered).size, 120, 'none twice');
    assert.ok(outcomes.reduce((sum, o) => sum + o.delivered, 0) <= 60);
    for (const message of posted) assert.ok(delivered.includes(`bob ${message.conversationId} ${message.seq}`));
  });

  test('entries far apart in seq (their neighbours already published) deliver exactly those messages', async () => {
    const conversation = await conversations().create({ title: 'sparse', createdBy: 'ann', users: ['ann'] });
    const appended = [];
    for (let i = 0; i < 6; i += 1) appended.push((await messages().append(conversation.id, 'ann', `m${i}`)).message);
    const outboxKey = keys.outbox(deliveryPartition(conversation.id));
    for (const message of appended.slice(1, 5)) await redis.zrem(outboxKey, await entryOf(deliveryPartition(conversation.id), message));
    const from = received.length;

    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 2, recipients: 2 });
    const frames = (await eventsSince(from, 2)).map(({ payload }) => JSON.parse(decodeDeliveryEvent(payload)!.frame.toString()) as { data: Message });
    assert.deepEqual(frames.map((f) => f.data.text), ['m0', 'm5']);
  });

  test('a malformed outbox entry is dropped, not retried', async () => {
    await redis.zadd(keys.outbox(3), 1, 'not an entry');
    assert.deepEqual(await deliveries().drain(3, 256), { ...NOTHING, malformed: 1 });
    assert.equal(await redis.zcard(keys.outbox(3)), 0);
  });
});

describe('delivery header (the drain\'s cache of title and members)', () => {
  /** Commands of each kind the server ran during `action` (this file's Redis runs nothing else meanwhile). */
  async function commandsDuring(action: () => Promise<unknown>): Promise<Record<'get' | 'hget' | 'zrange' | 'set', number>> {
    await redis.config('RESETSTAT');
    await action();
    const stats = String(await redis.info('commandstats'));
    const calls = (command: string) => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
    return { get: calls('get'), hget: calls('hget'), zrange: calls('zrange'), set: calls('set') };
  }
  /** Who each event since `from` named, and the title its frame carries: `<user> <title>`. */
  async function namedSince(from: number, count: number): Promise<string[]> {
    return (await eventsSince(from, count)).map(({ user, payload }) => {
      const frame = JSON.parse(decodeDeliveryEvent(payload)!.frame.toString()) as { data: { conversationTitle: string } };
      return `${user} ${frame.data.conversationTitle}`;
    });
  }

  test('the first drain writes it; the next one names the same members under the same title from one GET, without the hash or members', async () => {
    const title = 'Quotes " back\\slash / slash, ünïcode 💬, new\nline \u0001 ctl';
    const conversation = await conversations().create({ title, createdBy: 'ann', users: ['bob', 'cy'] });
    const header = keys.deliveryHeader(conversation.id);
    await messages().append(conversation.id, 'ann', 'one');
    let from = received.length;
    assert.equal(await redis.exists(header), 0, 'none before the first drain');
    const first = await commandsDuring(async () => assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 3 }));
    assert.deepEqual(first, { get: 1, hget: 1, zrange: 2, set: 1 }, 'a miss: the outbox and the members ranged, the title read, the header written');
    const firstNamed = await namedSince(from, 3);
    const written = await redis.get(header);
    assert.ok(written, 'written by the first drain');
    assert.equal(written.split('\n').length, 2, `one newline: the title's is escaped (${JSON.stringify(written)})`);
    assert.ok(written.endsWith('\nann,bob,cy'), written);
    assert.equal(JSON.parse(written.slice(0, written.indexOf('\n'))), title, 'the title as the frame encodes it');

    await messages().append(conversation.id, 'bob', 'two');
    from = received.length;
    const second = await commandsDuring(async () => assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 3 }));
    assert.deepEqual(second, { get: 1, hget: 0, zrange: 1, set: 0 }, 'a hit: only the outbox ranged, the header read');
    assert.deepEqual((await namedSince(from, 3)).sort(), firstNamed.sort());
    assert.deepEqual(firstNamed.sort(), ['ann', 'bob', 'cy'].map((user) => `${user} ${title}`));
    assert.equal(await redis.get(header), written, 'left as it was');
  });

  test('a member removed by update or leave is not named by the next drain, though the header named them before', async () => {
    const conversation = await conversations().create({ title: 'members', createdBy: 'ann', users: ['bob', 'cy', 'dan'] });
    await messages().append(conversation.id, 'ann', 'to all four');
    let from = received.length;
    await drainOf(conversation.id);
    assert.equal((await namedSince(from, 4)).length, 4);
    assert.ok(await redis.exists(keys.deliveryHeader(conversation.id)));

    await conversations().update(conversation.id, 'ann', { users: ['bob', 'cy'] });
    assert.equal(await redis.exists(keys.deliveryHeader(conversation.id)), 0, 'deleted with the change');
    await messages().append(conversation.id, 'ann', 'dan was removed');
    from = received.length;
    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 3 });
    assert.deepEqual((await namedSince(from, 3)).sort(), ['ann members', 'bob members', 'cy members']);

    // Written again by that drain, and deleted again by a leave.
    assert.ok(await redis.exists(keys.deliveryHeader(conversation.id)));
    assert.equal(await conversations().leave(conversation.id, 'cy'), 'left');
    await messages().append(conversation.id, 'bob', 'cy left');
    from = received.length;
    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 2 });
    assert.deepEqual((await namedSince(from, 2)).sort(), ['ann members', 'bob members']);

    // One added is named at once.
    await conversations().update(conversation.id, 'bob', { users: ['ann', 'eve'] });
    await messages().append(conversation.id, 'ann', 'eve joined');
    from = received.length;
    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, delivered: 1, recipients: 3 });
    assert.deepEqual((await namedSince(from, 3)).sort(), ['ann members', 'bob members', 'eve members']);
  });

  test('after a title change, the next event carries the new title', async () => {
    const conversation = await conversations().create({ title: 'old title', createdBy: 'ann', users: ['bob'] });
    await messages().append(conversation.id, 'ann', 'one');
    let from = received.length;
    await drainOf(conversation.id);
    assert.deepEqual((await namedSince(from, 2)).sort(), ['ann old title', 'bob old title']);

    await conversations().update(conversation.id, 'bob', { title: 'new "title"\n' });
    await messages().append(conversation.id, 'ann', 'two');
    from = received.length;
    await drainOf(conversation.id);
    assert.deepEqual((await namedSince(from, 2)).sort(), ['ann new "title"\n', 'bob new "title"\n']);
  });

  test('the last member leaving deletes it with the conversation; its entries are gone', async () => {
    const conversation = await conversations().create({ title: 'deleted', createdBy: 'ann', users: ['bob'] });
    await messages().append(conversation.id, 'ann', 'one');
    await drainOf(conversation.id);
    assert.ok(await redis.exists(keys.deliveryHeader(conversation.id)));
    await messages().append(conversation.id, 'ann', 'owed when they leave');

    assert.equal(await conversations().leave(conversation.id, 'ann'), 'left');
    assert.equal(await conversations().leave(conversation.id, 'bob'), 'deleted');
    assert.equal(await redis.exists(keys.deliveryHeader(conversation.id)), 0);
    const from = received.length;
    assert.deepEqual(await drainOf(conversation.id), { ...NOTHING, gone: 1 });
    assert.equal((await eventsSince(from, 1)).length, 0);
    assert.equal(await redis.exists(keys.deliveryHeader(conversation.id)), 0, 'not written for a deleted conversation');
  });
});

describe('wake flag', () => {
  test('only the append that sets it asks for a drain; the drain clears it, so the next append asks again', async () => {
    const conversation = await conversations().create({ title: 'wake', createdBy: 'ann', users: ['ann'] });
    const partition = deliveryPartition(conversation.id);

    const first = await messages().append(conversation.id, 'ann', 'one');
    assert.deepEqual(first.drain, { partition });
    const ttl = await redis.pttl(keys.wake(partition));
    assert.ok(ttl > 0 && ttl <= 2000, `the flag expires (pttl ${ttl})`);
    assert.equal((await messages().append(conversation.id, 'ann', 'two')).drain, undefined, 'a drain is pending');

    assert.equal((await drainOf(conversation.id)).delivered, 2, 'the pending drain carries both');
    assert.equal(await redis.exists(keys.wake(partition)), 0);
    assert.deepEqual((await messages().append(conversation.id, 'ann', 'three')).drain, { partition });
    // An expired flag (an api that died before enqueueing) lets the next append ask again.
    await redis.del(keys.wake(partition));
    assert.deepEqual((await messages().append(conversation.id, 'ann', 'four')).drain, { partition });
  });

  test('a lingering drain keeps the flag while it took messages, so appends meanwhile ask for no job; an empty one clears it', async () => {
    const conversation = await conversations().create({ title: 'linger', createdBy: 'ann', users: ['ann'] });
    const partition = deliveryPartition(conversation.id);
    await messages().append(conversation.id, 'ann', 'one');

    assert.deepEqual(await deliveries().drain(partition, 256, { stayAwake: 'renew' }), { ...NOTHING, delivered: 1, recipients: 1, awake: true });
    const ttl = await redis.pttl(keys.wake(partition));
    assert.ok(ttl > 0 && ttl <= 2000, `kept with a TTL (pttl ${ttl})`);
    assert.equal((await messages().append(conversation.id, 'ann', 'two')).drain, undefined, 'the lingering drain will carry it');
    await redis.pexpire(keys.wake(partition), 60_000);
    assert.deepEqual(await deliveries().drain(partition, 256, { stayAwake: 'keep' }), { ...NOTHING, delivered: 1, recipients: 1, awake: true });
    assert.ok((await redis.pttl(keys.wake(partition))) > 2000, "'keep' leaves the flag's TTL as it was");
    assert.deepEqual(await deliveries().drain(partition, 256, { stayAwake: 'keep' }), NOTHING, 'nothing taken: the flag is cleared');
    assert.equal(await redis.exists(keys.wake(partition)), 0);
    assert.deepEqual((await messages().append(conversation.id, 'ann', 'three')).drain, { partition });
  });

  test('a refused append (not a member) neither stores, nor wakes', async () => {
    const conversation = await conversations().create({ title: 'refused', createdBy: 'ann', users: ['ann'] });
    await assert.rejects(messages().append(conversation.id, 'mallory', 'hi'));
    assert.equal(await redis.exists(keys.wake(deliveryPartition(conversation.id))), 0);
    assert.equal(await createOutbox(redis, keys).size(), 0);
  });
});

describe('delivery partitions', () => {
  test('a conversation maps to a fixed partition in range, and ids spread over all of them', () => {
    // Fixed values: the mapping is stable across releases (entries of a release wait in its partitions).
    assert.deepEqual(
      ['AAAAAAAAAAAAAAAAAAAAAAAA', 'conversation-1', 'conversation-2', 'Zm9vYmFyYmF6cXV4'].map((id) => deliveryPartition(id, 16)),
      [13, 0, 9, 15],
    );
    assert.equal(deliveryPartition('conversation-2'), 0, 'one partition by default');
    for (const partitions of [3, 16, MAX_DELIVERY_PARTITIONS]) {
      const seen = new Set<number>();
      fc.assert(
        fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), (id) => {
          const partition = deliveryPartition(id, partitions);
          assert.ok(Number.isInteger(partition) && partition >= 0 && partition < partitions);
          assert.equal(deliveryPartition(id, partitions), partition);
          seen.add(partition);
        }),
        { numRuns: 2000 },
      );
      assert.equal(seen.size, partitions);
    }
  });

  test("the outbox size counts the partitions a caller writes to; overdue partitions are sought in every possible one", async () => {
    const outbox = createOutbox(redis, createKeys(keys.prefix, { clustered: false, partitions: 8 }));
    await redis.zadd(keys.outbox(0), Date.now() - 60_000, 'c0 1 m0');
    await redis.zadd(keys.outbox(MAX_DELIVERY_PARTITIONS - 1), Date.now() - 60_000, 'c1 1 m1');
    await redis.zadd(keys.outbox(5), Date.now(), 'c2 1 m2');
    assert.equal(await outbox.size(), 2);
    assert.deepEqual(await outbox.overduePartitions(30_000), [0, MAX_DELIVERY_PARTITIONS - 1]);
    await redis.del(keys.outbox(0), keys.outbox(5), keys.outbox(MAX_DELIVERY_PARTITIONS - 1));
  });
});

describe('legacy per-message jobs', () => {
  test('a message in the pre-partition outbox is delivered once by its per-message job', async () => {
    const conversation = await conversations().create({ title: 'old', createdBy: 'ann', users: ['ann', 'bob'] });
    const { message } = await messages().append(conversation.id, 'ann', 'from before the upgrade');
    // Where the previous release kept it: move the entry to the single outbox.
    const partition = deliveryPartition(conversation.id);
    const entry = await entryOf(partition, message);
    const score = await redis.zscore(keys.outbox(partition), entry);
    await redis.zrem(keys.outbox(partition), entry);
    await redis.zadd(keys.legacyOutbox(), score!, `${conversation.id} ${message.seq} ${message.id}`);
    const job = { conversationId: conversation.id, seq: message.seq, messageId: message.id };
    const from = received.length;

    assert.deepEqual(await deliveries().deliverLegacy(job), { kind: 'published', recipients: 2 });
    assert.deepEqual(await deliveries().deliverLegacy(job), { kind: 'already_delivered' });
    const events = await eventsSince(from, 2);
    assert.equal(events.length, 2);
    assert.equal(decodeDeliveryEvent(events[0]!.payload)?.acceptedAtMs, Date.parse(message.createdAt));
  });
});

describe('frameOfStored', () => {
  test('is the frame of the summary (the message plus its conversation title) for any message and title', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.nat(), (text, title, seq) => {
        const message: Message = { id: 'm1', conversationId: 'c1', seq: seq + 1, rev: seq + 1, author: 'ann', text, createdAt: new Date(0).toISOString() };
        const stored = JSON.stringify(message);
        assert.deepEqual(JSON.parse(frameOfStored(stored, title)), { type: 'message', data: { ...message, conversationTitle: title } });
      }),
      { numRuns: 300 },
    );
  });

  test('frameAs turns a message frame into a message_updated one and back, as text and as bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 20 }), (text, title) => {
        const stored = JSON.stringify({ id: 'm1', conversationId: 'c1', seq: 1, rev: 2, author: 'ann', text, createdAt: new Date(0).toISOString() });
        const message = frameOfStored(stored, title);
        const updated = frameOfStored(stored, title, 'updated');
        assert.deepEqual(JSON.parse(updated), { ...(JSON.parse(message) as object), type: 'message_updated' });
        assert.equal(frameAs(message, 'updated'), updated);
        assert.equal(frameAs(updated, 'message'), message);
        assert.equal(frameAs(message, 'message'), message);
        assert.equal(frameAs(Buffer.from(updated), 'message').toString(), message);
      }),
      { numRuns: 200 },
    );
  });
});
