import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import {
  DELIVERY_JOB,
  DELIVERY_JOB_OPTIONS,
  DELIVERY_QUEUE,
  MAX_DELIVERY_PARTITIONS,
  DRAIN_JOB,
  decodeDeliveryEvent,
  deliveryPartition,
  type DeliveryJob,
  type DrainJob,
} from '@chat/contracts';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { createMetricsRegistry } from '@chat/metrics';
import {
  connectRedis,
  createConversationStore,
  createDeliveryStore,
  createKeys,
  createMessageStore,
  createOutbox,
  createPresenceStore,
  redisAnswers,
  waitForRedis,
  type Keys,
  type Redis,
} from '@chat/store';
import { createWorker, type DeliveryWorker, type WorkerSettings } from '../../services/worker/src/create-worker.js';
import { waitFor } from '../support/wait-for.js';
import { recordDeliveries, type ChannelEvent } from '../support/delivery-recorder.js';

// The worker started in-process as its main.ts starts it, against a private redis-server: a job on
// the queue reaches the members' channels, the outbox sweeper re-enqueues what was never
// enqueued, and stop() closes everything it was given, once however often it is called.

let server: RedisServerHandle;
/** The test's own connections: setup, enqueueing and listening on the members' channels. */
let setup: Redis;
let listener: Redis;
let received: ChannelEvent[];
let queue: Queue<DrainJob | DeliveryJob>;
const keys: Keys = createKeys(`t${randomBytes(6).toString('hex')}`);

before(async () => {
  server = await startRedisServer({});
  setup = connectRedis({ url: server.url, name: 'test:setup', role: 'queue' });
  await waitForRedis(setup, 10_000);
  ({ received, connection: listener } = await recordDeliveries(server.url, keys));
  queue = new Queue<DrainJob | DeliveryJob>(DELIVERY_QUEUE, { connection: setup, prefix: keys.queuePrefix(0) });
});

after(async () => {
  await queue?.close();
  setup?.disconnect();
  listener?.disconnect();
  await server?.dispose();
});

interface BuiltWorker {
  worker: DeliveryWorker;
  /** Every connection it was given (stop() closes them). */
  connections: Redis[];
}

/** A worker wired as services/worker/src/main.ts wires it, ops routes on 127.0.0.1:0; not started. */
function buildWorker(settings: Partial<WorkerSettings> = {}): BuiltWorker {
  const identity = createProcessIdentity('worker');
  const logger = createLogger(identity, { level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
  const redis = connectRedis({ url: server.url, name: 'test:worker:command', role: 'command' });
  const queueRedis = connectRedis({ url: server.url, name: 'test:worker:queue', role: 'queue' });
  const consumerRedis = queueRedis.duplicate({ connectionName: 'test:worker:consumer' });
  const worker = createWorker({
    logger,
    registry: createMetricsRegistry(identity),
    keys,
    deliveries: createDeliveryStore(redis, keys),
    outbox: createOutbox(redis, keys),
    redis,
    queueRedis,
    consumerRedis,
    presence: createPresenceStore(redis, keys),
    isReady: () => redisAnswers(redis),
    settings: {
      host: '127.0.0.1',
      port: 0,
      concurrency: 2,
      drainBatchSize: 256,
      drainMaxRounds: 16,
      drainLingerMs: 2,
      drainIdleMs: 0,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      // Long by default, so a delivery comes from the job the test enqueued, not from the sweeper.
      sweepIntervalMs: 60_000,
      sweepGraceMs: 60_000,
      presenceSweepIntervalMs: 60_000,
      ...settings,
    },
  });
  const connections = [redis, queueRedis, consumerRedis];
  // main.ts has watchRedis listen; without a listener ioredis prints each error (e.g. a stop() mid-connect).
  for (const connection of connections) connection.on('error', (error: Error) => logger.debug({ err: { message: error.message } }, 'redis connection error'));
  return { worker, connections };
}

async function startWorker(settings: Partial<WorkerSettings> = {}): Promise<BuiltWorker & { opsUrl: string }> {
  const built = buildWorker(settings);
  // The command connection refuses commands until it is ready (no offline queue).
  await waitForRedis(built.connections[0] as Redis, 10_000);
  await built.worker.start();
  const { port } = built.worker.server.address() as AddressInfo;
  return { ...built, opsUrl: `http://127.0.0.1:${port}` };
}

/** Resolves once every connection has closed for good (QUIT answered, no reconnecting). */
function allEnded(connections: Redis[]): Promise<void> {
  const open = () => connections.filter((connection) => connection.status !== 'end');
  return waitFor(() => open().length === 0, 'the connections to close', 5000, () => open().map((c) => `${(c.options as { connectionName?: string }).connectionName}: ${c.status}`).join(', '));
}

async function newConversation(title = 'in-process') {
  return createConversationStore(setup, keys).create({ title, createdBy: 'ann', users: ['ann', 'bob'] });
}

/** A stored message (and its outbox entry) in a new conversation of ann and bob; not enqueued. */
async function storedMessage(text: string) {
  return createMessageStore(setup, keys).append((await newConversation()).id, 'ann', text);
}

/**
 * No job waiting and no wake flag set, as after every drain ran: a test that counts jobs is not
 * disturbed by a drain an earlier test enqueued but did not need (its messages went with another).
 */
async function quietQueue(): Promise<void> {
  await queue.drain(true);
  await setup.del(...Array.from({ length: MAX_DELIVERY_PARTITIONS }, (_, partition) => keys.wake(partition)));
}

/** Appends as the api does: the drain is enqueued only when the message woke its partition. Returns whether it was. */
async function postAsApi(conversationId: string, text: string): Promise<boolean> {
  const { drain } = await createMessageStore(setup, keys).append(conversationId, 'ann', text);
  if (drain) await queue.add(DRAIN_JOB, drain, DELIVERY_JOB_OPTIONS);
  return drain !== undefined;
}

async function framesFor(conversationId: string, count: number) {
  const matching = () =>
    received.flatMap(({ user, payload }) => {
      const event = decodeDeliveryEvent(payload);
      return event?.conversationId === conversationId ? [{ user, event }] : [];
    });
  await waitFor(() => matching().length >= count, `${count} delivery events of ${conversationId}`, 10_000, () => `got ${matching().length}`);
  return matching();
}

/** The value of the sample of `name` whose labels include `label` (e.g. outcome="completed"), 0 if none. */
async function metricValue(opsUrl: string, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  const sample = text.split('\n').find((line) => (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(label));
  return sample === undefined ? 0 : Number(sample.slice(sample.lastIndexOf(' ') + 1));
}

/** Polls /metrics until the sample reaches `expected` (the counters move after the publish is seen). */
async function untilMetric(opsUrl: string, name: string, label: string, expected: number): Promise<void> {
  let value = await metricValue(opsUrl, name, label);
  const deadline = Date.now() + 10_000;
  while (value < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await metricValue(opsUrl, name, label);
  }
  assert.equal(value, expected, `${name}{${label}}`);
}

describe('createWorker', () => {
  test('started in-process it serves the ops routes and delivers a queued job to every member', async () => {
    const { worker, connections, opsUrl } = await startWorker();
    try {
      assert.equal((await fetch(`${opsUrl}/healthz`)).status, 200);
      assert.equal((await fetch(`${opsUrl}/readyz`)).status, 200);

      const { message, drain } = await storedMessage('hello from the queue');
      assert.ok(drain, 'the message woke its partition');
      await queue.add(DRAIN_JOB, drain, DELIVERY_JOB_OPTIONS);
      const frames = await framesFor(message.conversationId, 2);
      assert.deepEqual(frames.map((f) => f.user).sort(), ['ann', 'bob']);
      for (const { event } of frames) {
        assert.equal(event.seq, message.seq);
        assert.deepEqual(JSON.parse(event.frame.toString('utf8')), { type: 'message', data: { ...message, conversationTitle: 'in-process' } });
      }
      await untilMetric(opsUrl, 'chat_delivery_jobs_total', 'outcome="completed"', 1);
      await untilMetric(opsUrl, 'chat_deliveries_published_total', '', 2);
      assert.equal(await metricValue(opsUrl, 'chat_outbox_requeued_total'), 0, 'delivered from the queued job');
    } finally {
      await worker.stop();
    }

    // Stopped: nothing listens, every connection it was given is closed, and stopping again is a no-op.
    assert.equal(worker.server.listening, false);
    await allEnded(connections);
    await worker.stop();
    await assert.rejects(fetch(`${opsUrl}/healthz`));
  });

  test('an idle single message is delivered by its own drain job at once', async () => {
    await quietQueue();
    const { worker, opsUrl } = await startWorker();
    try {
      const conversation = await newConversation('idle');
      const jobsBefore = await metricValue(opsUrl, 'chat_delivery_jobs_total', 'outcome="completed"');
      assert.equal(await postAsApi(conversation.id, 'alone'), true, 'it woke its partition');
      const [frame] = await framesFor(conversation.id, 1);
      // Nothing waits for company: the delay is the job hop only (bounded loosely for busy machines).
      const delayMs = Date.now() - frame!.event.acceptedAtMs;
      assert.ok(delayMs < 500, `delivered ${delayMs} ms after acceptance`);
      await untilMetric(opsUrl, 'chat_delivery_jobs_total', 'outcome="completed"', jobsBefore + 1);
    } finally {
      await worker.stop();
    }
  });

  test('an edit and a deletion ride the same outbox and drain: published as message_updated after the message, with their revs', async () => {
    await quietQueue();
    const { worker } = await startWorker();
    try {
      const conversation = await newConversation('edited');
      const messages = createMessageStore(setup, keys);
      await postAsApi(conversation.id, 'helo');
      // The api enqueues the drain an edit's entry woke, exactly as for a message.
      for (const change of [{ text: 'hello' }, 'delete'] as const) {
        const { drain } = await messages.change(conversation.id, 1, 'ann', change);
        if (drain) await queue.add(DRAIN_JOB, drain, DELIVERY_JOB_OPTIONS);
      }
      // A message the previous release left in the outbox (no rev in it): still published.
      const legacy = JSON.stringify({ id: 'oldone', conversationId: conversation.id, seq: 9, author: 'ann', text: 'old', createdAt: new Date().toISOString() });
      await setup.zadd(keys.outbox(deliveryPartition(conversation.id)), Date.now(), `${conversation.id} 9 oldone ${legacy}`);
      await postAsApi(conversation.id, 'after');
      const frames = (await framesFor(conversation.id, 10)).filter(({ user }) => user === 'bob').map(({ event }) => event);
      assert.deepEqual(
        frames.sort((a, b) => (a.rev ?? 0) - (b.rev ?? 0)).map((event) => [event.seq, event.rev, event.updated]),
        [[9, undefined, false], [1, 1, false], [1, 2, true], [1, 3, true], [2, 4, false]],
      );
    } finally {
      await worker.stop();
    }
  });

  test('a burst of messages across conversations is delivered, once each, by far fewer jobs than messages', async () => {
    await quietQueue();
    const { worker, opsUrl } = await startWorker();
    try {
      const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => newConversation(`burst ${i}`)));
      const texts = Array.from({ length: 200 }, (_, i) => ({ conversationId: burst[i % burst.length]!.id, text: `m${i}` }));
      // Sent at once, as many api requests in flight: only the append that wakes a partition enqueues.
      const woke = await Promise.all(texts.map(({ conversationId, text }) => postAsApi(conversationId, text)));
      const jobs = woke.filter(Boolean).length;
      assert.ok(jobs < texts.length / 4, `${jobs} drain jobs for ${texts.length} messages`);

      for (const conversation of burst) {
        const frames = await framesFor(conversation.id, 20);
        const seen = frames.map(({ user, event }) => `${user} ${event.seq}`);
        assert.equal(new Set(seen).size, 20, 'each member gets each of its 10 messages once');
        const bobSeqs = frames.filter((f) => f.user === 'bob').map((f) => f.event.seq);
        assert.deepEqual(bobSeqs, [...bobSeqs].sort((a, b) => a - b), 'in seq order');
      }
      // A job observes its batch size when it ends, after its linger: possibly after its frames arrived.
      await untilMetric(opsUrl, 'chat_delivery_messages_per_job_sum', '', texts.length);
    } finally {
      await worker.stop();
    }
  });

  test('a drain that found messages lingers: what arrives meanwhile rides on it, and the first empty drain ends it', async () => {
    // A long linger, so the test's second post surely lands inside it.
    await quietQueue();
    const { worker, opsUrl } = await startWorker({ drainLingerMs: 1000 });
    try {
      const conversation = await newConversation('linger');
      const completed = await metricValue(opsUrl, 'chat_delivery_jobs_total', 'outcome="completed"');
      assert.equal(await postAsApi(conversation.id, 'one'), true, 'the first message enqueues a drain');
      await framesFor(conversation.id, 2);
      assert.equal(await postAsApi(conversation.id, 'two'), false, 'the lingering drain carries the second');
      await framesFor(conversation.id, 4);
      await untilMetric(opsUrl, 'chat_delivery_jobs_total', 'outcome="completed"', completed + 1);
      assert.equal(await postAsApi(conversation.id, 'three'), true, 'once it ended, a message enqueues a new drain');
      assert.equal((await framesFor(conversation.id, 6)).length, 6);
    } finally {
      await worker.stop();
    }
  });

  test('a lingering drain stays awake through a gap shorter than its idle window, then ends', async () => {
    await quietQueue();
    const { worker, opsUrl } = await startWorker({ drainLingerMs: 5, drainIdleMs: 400, drainMaxRounds: 1000 });
    try {
      const conversation = await newConversation('idle window');
      const partition = keys.partitionOf(conversation.id);
      const completed = await metricValue(opsUrl, 'chat_delivery_jobs_total', 'outcome="completed"');
      assert.equal(await postAsApi(conversation.id, 'one'), true, 'the first message enqueues a drain');
      await framesFor(conversation.id, 2);
      // Several empty drains (every 5 ms) later, still inside the 400 ms window.
      await sleep(100);
      assert.equal(await setup.exists(keys.wake(partition)), 1, 'the flag is held through the quiet spell');
      assert.equal(await postAsApi(conversation.id, 'two'), false, 'the drain still awake carries the second');
      await framesFor(conversation.id, 4);
      // The window runs from the last drain that found messages: the job ends ~400 ms after 'two'.
      await untilMetric(opsUrl, 'chat_delivery_jobs_total', 'outcome="completed"', completed + 1);
      assert.equal(await setup.exists(keys.wake(partition)), 0, 'the job that ended cleared the flag');
      assert.equal(await postAsApi(conversation.id, 'three'), true, 'after the window a message enqueues a new drain');
      assert.equal((await framesFor(conversation.id, 6)).length, 6);
    } finally {
      await worker.stop();
    }
  });

  test('a drain that reaches its round limit hands the rest to a new job', async () => {
    const { worker } = await startWorker({ drainBatchSize: 2, drainMaxRounds: 1 });
    try {
      const conversation = await newConversation('flood');
      const messages = createMessageStore(setup, keys);
      for (let i = 0; i < 7; i += 1) await messages.append(conversation.id, 'ann', `m${i}`);
      await queue.add(DRAIN_JOB, { partition: deliveryPartition(conversation.id) }, DELIVERY_JOB_OPTIONS);
      const frames = await framesFor(conversation.id, 14);
      assert.equal(frames.length, 14);
    } finally {
      await worker.stop();
    }
  });

  test('a per-message job of the previous release, left in the queue, is still delivered from the old outbox', async () => {
    const { worker } = await startWorker();
    try {
      const conversation = await newConversation('legacy');
      const { message } = await createMessageStore(setup, keys).append(conversation.id, 'ann', 'before the upgrade');
      const partition = deliveryPartition(conversation.id);
      const entry = `${conversation.id} ${message.seq} ${message.id}`;
      await setup.zrem(keys.outbox(partition), entry);
      await setup.del(keys.wake(partition));
      await setup.zadd(keys.legacyOutbox(), Date.parse(message.createdAt), entry);
      const job: DeliveryJob = { conversationId: conversation.id, seq: message.seq, messageId: message.id };
      await queue.add(DELIVERY_JOB, job, { ...DELIVERY_JOB_OPTIONS, jobId: job.messageId });
      const frames = await framesFor(conversation.id, 2);
      assert.deepEqual(frames.map((f) => f.user).sort(), ['ann', 'bob']);
      assert.equal(await setup.zcard(keys.legacyOutbox()), 0);
    } finally {
      await worker.stop();
    }
  });

  test('a malformed job fails for good, without retries', async () => {
    const { worker } = await startWorker();
    try {
      const job = await queue.add(DRAIN_JOB, { partition: 99 } as unknown as DrainJob, DELIVERY_JOB_OPTIONS);
      let state = await job.getState();
      const deadline = Date.now() + 10_000;
      while (state !== 'failed' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        state = await job.getState();
      }
      assert.equal(state, 'failed');
      assert.equal((await queue.getJob(job.id!))?.attemptsMade, 1);
    } finally {
      await worker.stop();
    }
  });

  test('the outbox sweeper re-enqueues a stored message whose job never reached the queue', async () => {
    const { worker, opsUrl } = await startWorker({ sweepIntervalMs: 50, sweepGraceMs: 1 });
    try {
      const { message } = await storedMessage('never enqueued by the api');
      const frames = await framesFor(message.conversationId, 2);
      assert.deepEqual(frames.map((f) => f.user).sort(), ['ann', 'bob']);
      assert.ok((await metricValue(opsUrl, 'chat_outbox_requeued_total')) >= 1, 'the sweeper enqueued it');
    } finally {
      await worker.stop();
    }
  });

  test('messages an api wrote to other partitions (DELIVERY_PARTITIONS > 1) are delivered by their jobs, and by the sweeper without one', async () => {
    const { worker } = await startWorker({ sweepIntervalMs: 50, sweepGraceMs: 1 });
    try {
      // An api configured with the most partitions: the worker has no setting, the jobs and the sweeper say where to look.
      const api = createMessageStore(setup, createKeys(keys.prefix, { clustered: false, partitions: MAX_DELIVERY_PARTITIONS }), { historyLimit: 0 });
      // Conversations in six different partitions, none of them awake: each append wakes its own.
      await quietQueue();
      const byPartition = new Map<number, Awaited<ReturnType<typeof newConversation>>>();
      while (byPartition.size < 6) {
        const conversation = await newConversation(`partition ${byPartition.size}`);
        const partition = deliveryPartition(conversation.id, MAX_DELIVERY_PARTITIONS);
        if (!byPartition.has(partition)) byPartition.set(partition, conversation);
      }
      const conversations = [...byPartition.values()];
      for (const [i, conversation] of conversations.entries()) {
        const { drain } = await api.append(conversation.id, 'ann', `to partition ${deliveryPartition(conversation.id, MAX_DELIVERY_PARTITIONS)}`);
        assert.deepEqual(drain, { partition: deliveryPartition(conversation.id, MAX_DELIVERY_PARTITIONS) });
        // Half are enqueued as the api does; the others are left to the sweeper (an api that died first).
        if (i % 2 === 0) await queue.add(DRAIN_JOB, drain, DELIVERY_JOB_OPTIONS);
      }
      for (const conversation of conversations) assert.equal((await framesFor(conversation.id, 2)).length, 2);
    } finally {
      await worker.stop();
    }
  });

  test('stop() before start() closes its connections and is idempotent', async () => {
    const { worker, connections } = buildWorker();
    const first = worker.stop();
    assert.equal(worker.stop(), first, 'a second stop() returns the same promise');
    await first;
    await allEnded(connections);
  });
});
