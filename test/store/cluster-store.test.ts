import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Cluster, Redis as NodeConnection } from 'ioredis';
import { after, before, describe, test } from 'node:test';
import { ConflictError, MEMBERSHIP_MARKS, READ_MARK, RateLimitedError, deliveryPartition } from '@chat/contracts';
import { servesSlot, type RedisClusterHandle } from '@chat/devstack';
import {
  CLUSTER_SLOTS,
  KeyLayoutMismatchError,
  ReplicasNotConfirmedError,
  claimKeyLayout,
  clusterSlot,
  connectRedis,
  createConversationStore,
  createDeliveryStore,
  createKeys,
  createLoginFailureGuard,
  createMessageStore,
  createOutbox,
  createPresenceStore,
  createRateLimiter,
  createTypingStore,
  createWebhookDeadLetters,
  createUserSocketSlots,
  createUserStore,
  epochHistoryKept,
  observeStoreEpoch,
  partitionTag,
  waitForRedis,
  waitForReplicas,
  type Keys,
  type Redis,
} from '@chat/store';
import { startTestCluster } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

const PARTITIONS = 12;

describe('hash slots and partition tags', () => {
  test('partitionTag(i, P) lands in the i-th even share of the slots, for every P up to 64', () => {
    for (let partitions = 1; partitions <= 64; partitions += 1) {
      for (let partition = 0; partition < partitions; partition += 1) {
        const slot = clusterSlot(partitionTag(partition, partitions));
        assert.ok(slot >= Math.floor((partition * CLUSTER_SLOTS) / partitions), `${partition}/${partitions}: ${slot}`);
        assert.ok(slot < Math.floor(((partition + 1) * CLUSTER_SLOTS) / partitions), `${partition}/${partitions}: ${slot}`);
      }
    }
  });

  test('one Redis keeps the key strings of earlier releases', () => {
    const keys = createKeys('chat');
    assert.equal(keys.user('ann'), 'chat:user:ann');
    assert.equal(keys.userConversations('ann'), 'chat:user:ann:conversations');
    assert.equal(keys.userSockets('ann'), 'chat:user:ann:sockets');
    assert.equal(keys.conversation('c1'), 'chat:conv:c1');
    assert.equal(keys.members('c1'), 'chat:conv:c1:members');
    assert.equal(keys.messages('c1'), 'chat:conv:c1:messages');
    assert.equal(keys.outbox(3), 'chat:outbox:3');
    assert.equal(keys.wake(3), 'chat:wake:3');
    assert.equal(keys.rateCounter('user', 'ann'), 'chat:rate:user:ann');
    assert.equal(keys.userChannel('ann'), 'chat:u:ann');
    assert.equal(keys.conversationChannel('c1'), 'chat:c:c1');
    assert.equal(keys.queuePrefix(5), 'chat:bull');
    assert.deepEqual(keys.queuePrefixes(), ['chat:bull']);
    assert.equal(keys.publishCommand, 'PUBLISH');
  });

  test("on a cluster a conversation's keys and channel share its partition's slot, a user's theirs", () => {
    const keys = createKeys('chat', { clustered: true, partitions: PARTITIONS });
    for (const id of ['c1', 'AbCdEfGhIjKlMnOp', 'zz-9_x']) {
      const partition = deliveryPartition(id, PARTITIONS);
      const slot = clusterSlot(keys.outbox(partition));
      const together = [
        keys.conversation(id),
        keys.members(id),
        keys.messages(id),
        keys.deliveryHeader(id),
        keys.conversationChannel(id),
        keys.wake(partition),
      ];
      assert.deepEqual(together.map(clusterSlot), together.map(() => slot), id);
      assert.equal(clusterSlot(`${keys.queuePrefix(partition)}:deliveries:wait`), slot);
    }
    const user = [keys.user('ann'), keys.userConversations('ann'), keys.userSockets('ann'), keys.rateCounter('user', 'ann'), keys.userChannel('ann')];
    assert.deepEqual(new Set(user.map(clusterSlot)).size, 1);
    assert.equal(keys.userOfChannel(keys.userChannel('ann')), 'ann');
    assert.equal(keys.queuePrefixes().length, PARTITIONS);
    assert.equal(keys.publishCommand, 'SPUBLISH');
  });
});

describe('every store operation on a Redis Cluster (a CROSSSLOT anywhere fails it)', () => {
  let cluster: RedisClusterHandle;
  let redis: Redis;
  let subscriber: Redis;
  let keys: Keys;
  const heard: { channel: string; message: string }[] = [];

  before(async () => {
    cluster = await startTestCluster();
    const clusterNodes = cluster.seeds;
    redis = connectRedis({ url: 'redis://127.0.0.1', clusterNodes, name: 'test:command', role: 'command' });
    subscriber = connectRedis({ url: 'redis://127.0.0.1', clusterNodes, name: 'test:subscriber', role: 'subscriber' });
    subscriber.on('smessage', (channel: string, message: string) => heard.push({ channel, message }));
    // The WAIT test kills a replica: the reconnects are reported as errors, expected here.
    for (const connection of [redis, subscriber]) connection.on('error', () => undefined);
    await Promise.all([waitForRedis(redis, 10_000), waitForRedis(subscriber, 10_000)]);
    keys = createKeys(`t${randomBytes(6).toString('hex')}`, { clustered: true, partitions: PARTITIONS });
  });

  after(async () => {
    redis?.disconnect();
    subscriber?.disconnect();
    await cluster?.dispose();
  });

  test("CLUSTER KEYSLOT agrees with clusterSlot, and each master serves as many partitions", async () => {
    for (const key of [keys.conversation('c1'), keys.user('ann'), keys.outbox(7), 'no-tag-at-all', '{}empty', 'a{b}c{d}']) {
      assert.equal(Number(await redis.cluster('KEYSLOT', key)), clusterSlot(key), key);
    }
    const masters = (await cluster.topology()).filter((node) => node.role === 'master');
    const perMaster = masters.map((master) =>
      Array.from({ length: PARTITIONS }, (_, partition) => clusterSlot(keys.outbox(partition))).filter((slot) => servesSlot(master, slot)).length,
    );
    assert.deepEqual(perMaster, masters.map(() => PARTITIONS / masters.length));
  });

  test('users, conversations, messages, drains, limits, socket slots and the epoch', async () => {
    const users = createUserStore(redis, keys);
    const conversations = createConversationStore(redis, keys);
    const messages = createMessageStore(redis, keys);
    const deliveries = createDeliveryStore(redis, keys);
    const limiter = createRateLimiter(redis, keys);
    const names = ['ann', 'bob', 'cy', 'dee'].map((name) => `${name}${randomBytes(3).toString('hex')}`);
    const [ann, bob, cy, dee] = names as [string, string, string, string];
    for (const name of names) await users.create(name, 'hash', new Date().toISOString());
    assert.deepEqual(await users.missing([...names, 'nobody']), ['nobody']);
    assert.equal((await users.find(ann))?.user.username, ann);

    for (const name of names) await subscriber.ssubscribe(keys.userChannel(name));
    const created = await conversations.create({ title: 'four slots', createdBy: ann, users: [bob, cy] });
    await subscriber.ssubscribe(keys.conversationChannel(created.id));
    await waitFor(() => heard.filter((entry) => entry.message === `${MEMBERSHIP_MARKS.joined}${created.id}`).length === 3, 'three joined notices');
    assert.deepEqual((await conversations.listFor(bob)).map((c) => c.id), [created.id]);
    assert.deepEqual(await conversations.memberships(cy, [created.id, 'nope']), [true, false]);
    assert.deepEqual(await conversations.idsOf(ann), [created.id]);

    const updated = await conversations.update(created.id, ann, { title: 'renamed', users: [bob, dee] });
    assert.deepEqual(updated.users, [ann, bob, dee].sort());
    assert.deepEqual(await conversations.listFor(cy), []);
    assert.deepEqual((await conversations.listFor(dee)).map((c) => c.title), ['renamed']);
    await waitFor(() => heard.some((entry) => entry.message === `${MEMBERSHIP_MARKS.left}${created.id}` && entry.channel === keys.userChannel(cy)), 'cy told she left');

    const charge = limiter.charge({ scope: 'user', limit: 3, windowMs: 60_000 }, ann);
    const first = await messages.append(created.id, ann, 'one', charge);
    await messages.append(created.id, bob, 'two');
    await messages.append(created.id, ann, 'three', charge);
    await messages.append(created.id, ann, 'four', charge);
    await assert.rejects(messages.append(created.id, ann, 'five', charge), RateLimitedError);
    assert.deepEqual(first.drain, { partition: keys.partitionOf(created.id) });
    assert.equal((await createOutbox(redis, keys).size()) >= 4, true);

    const drained = await deliveries.drain(keys.partitionOf(created.id), 256);
    assert.equal(drained.delivered, 4);
    await waitFor(() => heard.filter((entry) => entry.channel === keys.conversationChannel(created.id)).length === 4, 'four SPUBLISHed events');
    assert.deepEqual(await createOutbox(redis, keys).overduePartitions(0), []);

    assert.equal((await messages.page(created.id, bob, 0, 10)).raw.length, 4);
    assert.equal((await messages.pageBefore(created.id, bob, 100, 2)).raw.length, 2);
    assert.equal((await messages.history(created.id, 1, undefined, 10)).lastSeq, 4);
    assert.equal((await messages.recentSince(created.id, bob, undefined, 0)).raw.length, 4);

    // The drain wrote the delivery header in the conversation's slot; the next one reads it.
    assert.equal(await redis.exists(keys.deliveryHeader(created.id)), 1);
    await messages.append(created.id, bob, 'five');
    assert.deepEqual(await deliveries.drain(keys.partitionOf(created.id), 256), { delivered: 1, recipients: 3, gone: 0, malformed: 0, more: false, awake: false, waiting: 0 });

    assert.equal(await conversations.leave(created.id, bob), 'left');
    assert.equal(await redis.exists(keys.deliveryHeader(created.id)), 0, 'deleted with the change');
    assert.deepEqual(await conversations.listFor(bob), []);

    assert.equal((await limiter.hit({ scope: 'auth-ip', limit: 5, windowMs: 1000 }, '10.0.0.1')).allowed, true);
    const guard = createLoginFailureGuard(limiter, keys, { perUsernameAndAddress: 3, perAddress: 10, windowMs: 60_000 });
    const attempt = await guard.admit(ann, '10.0.0.2');
    assert.ok(attempt.allowed);
    await attempt.succeeded();

    const slots = createUserSocketSlots(redis, keys);
    assert.equal(await slots.claim({ username: ann, socketId: 's1' }, 2, 10_000), 'came-online');
    await slots.refresh([{ username: ann, socketId: 's1' }, { username: dee, socketId: 's2' }], 10_000);
    await slots.release({ username: ann, socketId: 's1' });

    const epoch = await observeStoreEpoch(redis, keys);
    assert.equal(await observeStoreEpoch(redis, keys), epoch, 'the epoch holds while no master changes');
  });

  test('1.1 on a cluster: clientId, read cursors, edits and revs, typing, presence, dead letters', async () => {
    const users = createUserStore(redis, keys);
    const conversations = createConversationStore(redis, keys);
    const messages = createMessageStore(redis, keys);
    const limiter = createRateLimiter(redis, keys);
    const [ann, bob] = ['ann', 'bob'].map((name) => `${name}${randomBytes(3).toString('hex')}`) as [string, string];
    for (const name of [ann, bob]) await users.create(name, 'hash', new Date().toISOString());
    for (const name of [ann, bob]) await subscriber.ssubscribe(keys.userChannel(name));
    const created = await conversations.create({ title: 'one-one', createdBy: ann, users: [bob] });
    await subscriber.ssubscribe(keys.conversationChannel(created.id));

    // Exactly once: the repeat answers the stored message, the rate-limit hit counted in the user's slot.
    const charge = limiter.charge({ scope: 'user', limit: 10, windowMs: 60_000 }, ann);
    const first = await messages.append(created.id, ann, 'hello', charge, 'c1');
    const again = await messages.append(created.id, ann, 'hello', charge, 'c1');
    assert.equal(again.repeated, true);
    assert.equal(again.message.id, first.message.id);
    await assert.rejects(messages.append(created.id, ann, 'other text', charge, 'c1'), ConflictError);
    await messages.append(created.id, bob, 'hi ann');

    // Read state: each author's cursor moved with their post; ann marks read, told on her channel.
    assert.equal((await conversations.read(created.id, ann))?.unread, 1);
    assert.deepEqual(await conversations.markRead(created.id, ann, 2), { conversationId: created.id, readSeq: 2, unread: 0 });
    await waitFor(() => heard.some((entry) => entry.channel === keys.userChannel(ann) && entry.message.startsWith(READ_MARK)), 'the read notice');
    assert.deepEqual((await conversations.listFor(ann, 'activity')).map((c) => [c.id, c.lastSeq, c.readSeq]), [[created.id, 2, 2]]);

    // Edits and deletions: new revs, the rev index in the conversation's slot.
    const edited = await messages.change(created.id, 1, ann, { text: 'hello!' });
    assert.equal(edited.message.rev, 3);
    const deleted = await messages.change(created.id, 1, ann, 'delete');
    assert.equal(deleted.message.rev, 4);
    const changes = await messages.changesBetween(created.id, 2, undefined, undefined, 10);
    assert.deepEqual(changes.changes.map((change) => change.rev), [4]);
    const drained = await createDeliveryStore(redis, keys).drain(keys.partitionOf(created.id), 256, { report: true });
    assert.equal(drained.delivered, 4);
    assert.equal(drained.events?.length, 4);

    // Typing: throttled per user and conversation in the conversation's slot, SPUBLISHed there.
    const typing = createTypingStore(redis, keys);
    assert.equal(await typing.relay({ type: 'typing', conversationId: created.id, user: ann }), 'relayed');
    assert.equal(await typing.relay({ type: 'typing', conversationId: created.id, user: ann }), 'throttled');

    // Presence: the lease and the presence hash in the user's slot, the sweep's index on its own.
    const presence = createPresenceStore(redis, keys);
    const slots = createUserSocketSlots(redis, keys);
    assert.equal(await slots.claim({ username: bob, socketId: 'b1' }, 2, 10_000), 'came-online');
    assert.deepEqual([...(await presence.withLiveSocket([ann, bob]))], [bob]);
    assert.deepEqual(await slots.refresh([{ username: bob, socketId: 'b1' }], 10_000), []);
    assert.equal(await presence.announce({ type: 'presence', user: bob, online: true, lastSeen: new Date().toISOString() }), 1);
    await slots.release({ username: bob, socketId: 'b1' });
    assert.notEqual(await presence.settle(bob), undefined);
    assert.deepEqual((await presence.read(ann, [bob])).map((item) => [item.user, item.online]), [[bob, false]]);

    const dead = createWebhookDeadLetters(redis, keys);
    const webhook = { event: 'message.offline' as const, message: { ...first.message, conversationTitle: 'one-one' }, recipients: [bob] };
    await dead.add({ failedAt: new Date().toISOString(), attempts: 3, status: 500, error: 'server error', webhook });
    assert.equal((await dead.list(1)).length, 1);

    // Leaving: the conversation's side in its slot, then each stayer told on their own channel.
    assert.equal(await conversations.leave(created.id, ann), 'left');
    await waitFor(
      () => heard.some((entry) => entry.channel === keys.userChannel(bob) && entry.message === `${MEMBERSHIP_MARKS.updated}${created.id}`),
      'bob told the conversation changed',
    );
    assert.equal(await conversations.leave(created.id, bob), 'deleted');
  });

  test('a conversation index entry without membership (a crash between the two sides) is not listed', async () => {
    const conversations = createConversationStore(redis, keys);
    const [ann, bob] = ['ann', 'bob'].map((name) => `${name}${randomBytes(3).toString('hex')}`) as [string, string];
    const created = await conversations.create({ title: 'half', createdBy: ann, users: [] });
    await redis.zadd(keys.userConversations(bob), Date.now(), created.id);
    assert.deepEqual(await conversations.listFor(bob), []);
  });

  test('the partition count is recorded at first start; another one is refused', async () => {
    await claimKeyLayout(redis, keys);
    await claimKeyLayout(redis, keys);
    const other = createKeys(keys.prefix, { clustered: true, partitions: PARTITIONS + 1 });
    await assert.rejects(claimKeyLayout(redis, other), KeyLayoutMismatchError);
  });

  test('WAIT goes to the master that took the write: with its replica down it is not confirmed, elsewhere it is', async () => {
    const topology = await cluster.topology();
    const conversations = createConversationStore(redis, keys);
    const owner = `ann${randomBytes(3).toString('hex')}`;
    const masterOf = async (id: string) => (await cluster.masterOf(keys.conversation(id))).port;
    // Two conversations on different masters.
    const first = await conversations.create({ title: 'a', createdBy: owner, users: [] });
    let second = await conversations.create({ title: 'b', createdBy: owner, users: [] });
    while ((await masterOf(second.id)) === (await masterOf(first.id))) second = await conversations.create({ title: 'b', createdBy: owner, users: [] });
    const firstMaster = await masterOf(first.id);
    const master = topology.find((node) => node.port === firstMaster);
    const replica = topology.find((node) => node.role === 'replica' && node.masterId === master?.id);
    assert.ok(replica, 'the master has a replica');

    const messages = createMessageStore(redis, keys, { historyLimit: 0, waitReplicas: 1, waitTimeoutMs: 300 });
    await messages.append(first.id, owner, 'confirmed by its replica');
    await cluster.kill(replica.port);
    try {
      await assert.rejects(messages.append(first.id, owner, 'no replica left'), ReplicasNotConfirmedError);
      // Its own master still has a replica: a WAIT sent to any other node would not say so.
      await messages.append(second.id, owner, 'confirmed on the other master');
      await waitForReplicas(redis, keys.conversation(second.id), 1, 300);
    } finally {
      await cluster.restart(replica.port);
      await cluster.waitForHealthy();
    }
  });

  test('the epoch is per partition: a slot moved with its keys keeps it; a master replaced by its replica renews only its own partitions', async () => {
    const conversations = createConversationStore(redis, keys);
    const owner = `ann${randomBytes(3).toString('hex')}`;
    const epochs = [await observeStoreEpoch(redis, keys)];
    const partitionSlot = (partition: number) => clusterSlot(keys.epoch(partition));

    // Resharding: partition 0's slot moves to another master with every key in it.
    const from = await cluster.masterOf(keys.epoch(0));
    const to = (await cluster.topology()).find((node) => node.role === 'master' && node.port !== from.port);
    assert.ok(to);
    await cluster.moveSlot(partitionSlot(0), to.port);
    // The client learns where the slot went from the next MOVED, or from its slot map read anew.
    if (redis instanceof Cluster) redis.refreshSlotsCache();
    await new Promise((resolve) => setTimeout(resolve, 500));
    epochs.push(await observeStoreEpoch(redis, keys));
    assert.equal(epochs[1], epochs[0], 'a moved slot keeps its history, and its epoch');

    // A conversation on a master that dies, and one elsewhere.
    const lost = await conversations.create({ title: 'lost', createdBy: owner, users: [] });
    const victim = await cluster.masterOf(keys.conversation(lost.id));
    let kept = await conversations.create({ title: 'kept', createdBy: owner, users: [] });
    while ((await cluster.masterOf(keys.conversation(kept.id))).port === victim.port) kept = await conversations.create({ title: 'kept', createdBy: owner, users: [] });
    await cluster.kill(victim.port);
    try {
      await cluster.waitForFailover(victim.port);
      for (let attempt = 0; ; attempt += 1) {
        try {
          epochs.push(await observeStoreEpoch(redis, keys));
          break;
        } catch (error) {
          // Until ioredis has read the new slot map, the dead master is still asked.
          if (attempt > 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    } finally {
      await cluster.restart(victim.port);
      await cluster.waitForHealthy();
    }
    assert.notEqual(epochs[2], epochs[1], 'history may have gone backwards on one master');
    const resumable = await epochHistoryKept(redis, keys, epochs[1] as string, epochs[2] as string);
    assert.equal(resumable(lost.id), false, 'a conversation on the replaced master cannot be resumed');
    assert.equal(resumable(kept.id), true, 'one elsewhere can');
  });

  test("a drain sent to a half-moved slot's new master writes the delivery header there: the move still completes (both copies alike), and delivery goes on", async () => {
    const conversations = createConversationStore(redis, keys);
    const messages = createMessageStore(redis, keys);
    const deliveries = createDeliveryStore(redis, keys);
    const owner = `ann${randomBytes(3).toString('hex')}`;
    const created = await conversations.create({ title: 'moving', createdBy: owner, users: [] });
    const partition = keys.partitionOf(created.id);
    const slot = String(clusterSlot(keys.outbox(partition)));
    const headerKey = keys.deliveryHeader(created.id);
    const NOTHING = { delivered: 0, recipients: 0, gone: 0, malformed: 0, more: false, awake: false, waiting: 0 };
    // Whatever earlier tests left owed in the partition goes first.
    while ((await deliveries.drain(partition, 256)).more);
    await messages.append(created.id, owner, 'one');
    assert.deepEqual(await deliveries.drain(partition, 256), { ...NOTHING, delivered: 1, recipients: 1 });
    const header = await redis.get(headerKey);
    assert.ok(header, 'written on the slot\'s first master');
    await messages.append(created.id, owner, 'two');
    // Long enough for the drain below: the script takes its outbox and wake flag together.
    await redis.set(keys.wake(partition), '1', 'PX', 60_000);

    const source = await cluster.masterOf(keys.outbox(partition));
    const target = (await cluster.topology()).find((node) => node.role === 'master' && !node.failing && node.port !== source.port);
    assert.ok(target);
    const [from, to] = [source.port, target.port].map((port) => new NodeConnection({ host: '127.0.0.1', port, maxRetriesPerRequest: 0 })) as [NodeConnection, NodeConnection];
    try {
      // Half-moved, as redis-cli leaves it between two MIGRATEs: every key of the slot but the header.
      await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
      await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);
      const count = String(await from.call('CLUSTER', 'COUNTKEYSINSLOT', slot));
      const others = ((await from.call('CLUSTER', 'GETKEYSINSLOT', slot, count)) as string[]).filter((key) => key !== headerKey);
      await from.call('MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', ...others);
      // Asked to the new master (ASK): it finds the conversation there, not its header, and writes it.
      assert.deepEqual(await deliveries.drain(partition, 256), { ...NOTHING, delivered: 1, recipients: 1 });
      const [, [, written]] = (await to.pipeline().call('ASKING').get(headerKey).exec()) as [unknown, [unknown, string | null]];
      assert.equal(written, header, 'the same value as the copy still on the old master');
      // redis-cli compares both copies and replaces the target's; so does moveSlot.
      await cluster.moveSlot(Number(slot), target.port);
    } finally {
      from.disconnect();
      to.disconnect();
    }
    if (redis instanceof Cluster) redis.refreshSlotsCache();
    assert.equal((await cluster.masterOf(headerKey)).port, target.port);
    await messages.append(created.id, owner, 'three');
    assert.deepEqual(await deliveries.drain(partition, 256), { ...NOTHING, delivered: 1, recipients: 1 });
    assert.equal(await redis.get(headerKey), header);
  });
});
