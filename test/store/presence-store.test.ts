import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import {
  connectRedis,
  createConversationStore,
  createDeliveryStore,
  createKeys,
  createMessageStore,
  createPresenceStore,
  createTypingStore,
  createUserSocketSlots,
  waitForRedis,
  type Redis,
} from '@chat/store';
import { decodeDeliveryEvent, deliveryPartition } from '@chat/contracts';
import { Redis as RedisClient } from 'ioredis';

/** The presence, typing and drain-report scripts against a real redis-server, step by step. */
describe('presence and typing in the store', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  const keys = createKeys('presencetest');

  before(async () => {
    server = await startRedisServer({});
    redis = connectRedis({ url: server.url, name: 'test:presence', role: 'command' });
    await waitForRedis(redis, 10_000);
  });
  after(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  test('a user is online from the first claim until settled with no live lease; settling twice announces once', async () => {
    const slots = createUserSocketSlots(redis, keys);
    const presence = createPresenceStore(redis, keys);
    assert.equal(await slots.claim({ username: 'ada', socketId: 's1' }, 5, 60_000), 'came-online');
    assert.equal(await slots.claim({ username: 'ada', socketId: 's2' }, 5, 60_000), 'claimed');
    assert.equal(await slots.release({ username: 'ada', socketId: 's1' }), 1);
    assert.equal(await presence.settle('ada'), undefined, 'a socket is left');
    const closedBefore = Date.now();
    assert.equal(await slots.release({ username: 'ada', socketId: 's2' }), 0);
    const [first, second] = await Promise.all([presence.settle('ada'), presence.settle('ada')]);
    assert.deepEqual([first === undefined, second === undefined].sort(), [false, true], 'one of two concurrent settles takes her offline');
    const lastSeen = (first ?? second) as number;
    assert.ok(lastSeen >= closedBefore && lastSeen <= Date.now(), 'lastSeen is when her last socket closed');
    // Within the grace a new socket is no transition; after the settle it is.
    assert.equal(await slots.claim({ username: 'ada', socketId: 's3' }, 5, 60_000), 'came-online');
  });

  test('a lapsed lease is swept with lastSeen at its last renewal, and the index keeps a user who came back', async () => {
    const slots = createUserSocketSlots(redis, keys);
    const presence = createPresenceStore(redis, keys);
    const ttlMs = 200;
    const claimedAt = Date.now();
    assert.equal(await slots.claim({ username: 'bea', socketId: 'dead' }, 5, ttlMs), 'came-online');
    assert.equal(await slots.claim({ username: 'cy', socketId: 'dead' }, 5, ttlMs), 'came-online');
    const lapsedAt = claimedAt + ttlMs + 50;
    // cy connects again on a live replica before the sweep reads the index.
    assert.deepEqual((await presence.lapsed(lapsedAt, 100)).sort(), ['bea', 'cy']);
    assert.equal(await slots.claim({ username: 'cy', socketId: 'alive' }, 5, 60_000), 'claimed');
    const lastSeen = await presence.settle('bea', lapsedAt);
    assert.ok(lastSeen !== undefined && Math.abs(lastSeen - claimedAt) < 50, `bea was last renewed when claimed (${lastSeen} vs ${claimedAt})`);
    assert.equal(await presence.settle('cy', lapsedAt), undefined, 'cy has a live lease');
    await presence.forgetLapsed(['bea', 'cy'], lapsedAt);
    assert.equal(await redis.zscore(keys.presenceExpiries(), 'bea'), null);
    assert.ok(Number(await redis.zscore(keys.presenceExpiries(), 'cy')) > lapsedAt, 'cy stays indexed: her new lease may lapse too');
  });

  test('a renewal re-adds lapsed leases and says whose they were', async () => {
    const slots = createUserSocketSlots(redis, keys);
    await slots.claim({ username: 'dee', socketId: 'a' }, 5, 60_000);
    await slots.claim({ username: 'eve', socketId: 'b' }, 5, 60_000);
    await redis.zrem(keys.userSockets('eve'), 'b');
    const lapsed = await slots.refresh(
      [
        { username: 'dee', socketId: 'a' },
        { username: 'eve', socketId: 'b' },
      ],
      60_000,
    );
    assert.deepEqual(lapsed, ['eve']);
    assert.equal(await redis.zcard(keys.userSockets('eve')), 1);
  });

  test("a renewal sends one ZADD to the presence index for all its users (per 1000), beside each user's ZADD and PEXPIRE, no MULTI", async () => {
    const slots = createUserSocketSlots(redis, keys);
    for (const [count, indexZadds] of [
      [50, 1],
      [2001, 3],
    ] as const) {
      const renewing = Array.from({ length: count }, (_, i) => ({ username: `many${count}-${i}`, socketId: 's' }));
      await Promise.all(renewing.map((slot) => slots.claim(slot, 5, 60_000)));
      // The file has its own redis-server: what it counts during the renewal is the renewal's.
      await redis.config('RESETSTAT');
      const renewedAt = Date.now();
      assert.deepEqual(await slots.refresh(renewing, 120_000), []);
      const stats = String(await redis.info('commandstats'));
      const calls = (command: string) => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
      // Every user's key gets one ZADD and one PEXPIRE; the rest went to the index.
      assert.deepEqual([calls('multi'), calls('exec'), calls('pexpire'), calls('zadd') - count], [0, 0, count, indexZadds], stats);
      const ttls = await Promise.all(renewing.slice(0, 5).map((slot) => redis.pttl(keys.userSockets(slot.username))));
      assert.ok(ttls.every((ttl) => ttl > 60_000 && ttl <= 120_000), `every renewed key lives the new ttl: ${ttls.join(', ')}`);
      const scores = await redis.zmscore(keys.presenceExpiries(), ...renewing.map((slot) => slot.username));
      assert.ok(
        scores.every((score) => Number(score) >= renewedAt + 120_000),
        'every user is indexed at the new expiry',
      );
    }
  });

  test('typing: not_member, then relayed once per throttle window, naming the other members', async () => {
    const conversation = await createConversationStore(redis, keys).create({ title: 't', createdBy: 'fay', users: ['gil', 'hop'] });
    const typing = createTypingStore(redis, keys);
    const listener = new RedisClient(server.url);
    const events: string[] = [];
    try {
      await listener.subscribe(keys.conversationChannel(conversation.id));
      listener.on('message', (_channel, message: string) => events.push(message));
      assert.equal(await typing.relay({ type: 'typing', conversationId: conversation.id, user: 'zed' }), 'not_member');
      assert.equal(await typing.relay({ type: 'typing', conversationId: 'nosuch', user: 'fay' }), 'not_member');
      assert.equal(await typing.relay({ type: 'typing', conversationId: conversation.id, user: 'fay' }), 'relayed');
      assert.equal(await typing.relay({ type: 'typing', conversationId: conversation.id, user: 'fay' }), 'throttled');
      assert.equal(await typing.relay({ type: 'typing', conversationId: conversation.id, user: 'gil' }), 'relayed', 'per user');
      assert.ok(Number(await redis.pttl(keys.typingThrottle(conversation.id, 'fay'))) <= 2000);
      await redis.ping();
      const deadline = Date.now() + 2000;
      while (events.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(events, [
        `~gil,hop {"type":"typing","conversationId":"${conversation.id}","user":"fay"}`,
        `~fay,hop {"type":"typing","conversationId":"${conversation.id}","user":"gil"}`,
      ]);
    } finally {
      listener.disconnect();
    }
  });

  test('a drain reports the events it published only when asked', async () => {
    const conversation = await createConversationStore(redis, keys).create({ title: 'r', createdBy: 'ivy', users: ['jay'] });
    const messages = createMessageStore(redis, keys);
    const deliveries = createDeliveryStore(redis, keys);
    const partition = deliveryPartition(conversation.id);
    await messages.append(conversation.id, 'ivy', 'quiet');
    assert.equal((await deliveries.drain(partition, 256)).events, undefined);
    const { message } = await messages.append(conversation.id, 'ivy', 'reported');
    const outcome = await deliveries.drain(partition, 256, { report: true });
    assert.equal(outcome.events?.length, 1);
    const event = decodeDeliveryEvent(Buffer.from(outcome.events?.[0] ?? ''));
    assert.deepEqual(event?.members, ['ivy', 'jay']);
    assert.equal(JSON.parse(event?.frame.toString() ?? '{}').data.id, message.id);
  });

  test('co-members: everyone sharing a conversation, once, never through an index entry membership does not back', async () => {
    const conversations = createConversationStore(redis, keys);
    await conversations.create({ title: 'one', createdBy: 'kai', users: ['lou', 'max'] });
    await conversations.create({ title: 'two', createdBy: 'lou', users: ['kai'] });
    const stale = await conversations.create({ title: 'three', createdBy: 'ned', users: ['oz'] });
    // A half-done change: kai's index names a conversation he is not a member of.
    await redis.zadd(keys.userConversations('kai'), Date.now(), stale.id);
    const presence = createPresenceStore(redis, keys);
    assert.deepEqual([...(await presence.coMembers('kai'))].sort(), ['lou', 'max']);
    const items = await presence.read('kai', ['ned', 'lou', 'kai', 'nobody']);
    assert.deepEqual(
      items.map((item) => item.user),
      ['lou', 'kai'],
    );
  });
});
