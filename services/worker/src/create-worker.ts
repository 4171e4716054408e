import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { DELIVERY_JOB_OPTIONS, DRAIN_JOB, WEBHOOK_QUEUE, type OfflineWebhook } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import { createOpsServer, type Registry } from '@chat/metrics';
import type { Service } from '@chat/runtime';
import {
  claimKeyLayout,
  closeRedis,
  type DeliveryStore,
  type Keys,
  type Outbox,
  type PresenceStore,
  type RateLimiter,
  type Redis,
  type WebhookDeadLetters,
} from '@chat/store';
import { createDeliveryConsumer } from './delivery-consumer.js';
import { createDeliveryQueues } from './delivery-queues.js';
import { createOfflineNotifier, type OfflineNotifier } from './offline-notifier.js';
import { startOutboxSweeper } from './outbox-sweeper.js';
import { startPresenceSweeper } from './presence-sweeper.js';
import { createProcessDeliveryJob } from './process-delivery-job.js';
import { createWebhookMetrics } from './webhook-metrics.js';
import { createWebhookSender } from './webhook-sender.js';
import { createWorkerMetrics } from './worker-metrics.js';

export interface WorkerSettings {
  /** Interface and port of the ops routes (/healthz, /readyz, /metrics; 0: any free port). */
  host: string;
  port: number;
  /** Jobs processed at once. */
  concurrency: number;
  /** Outbox entries one drain script takes at most, and drain scripts one job runs at most. */
  drainBatchSize: number;
  drainMaxRounds: number;
  /** How long a drain that found messages waits for more before it ends (0: never). */
  drainLingerMs: number;
  /** WORKER_DRAIN_IDLE_MS: how long a lingering drain stays awake after it last found messages. */
  drainIdleMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How often the outbox sweeper runs, and how old an entry must be for it to re-enqueue it. */
  sweepIntervalMs: number;
  sweepGraceMs: number;
  /** How often users whose last socket lease ran out are taken offline. */
  presenceSweepIntervalMs: number;
  /** Offline notifications; undefined (WEBHOOK_URL unset): none, at no cost per message. */
  webhook?: WebhookSettings;
}

export interface WebhookSettings {
  url: string;
  secret: string;
  timeoutMs: number;
  attempts: number;
  /** First retry delay; each further one doubles. */
  backoffMs: number;
  concurrency: number;
  /** Notifications one recipient may get per window. */
  perRecipient: number;
  windowMs: number;
}

export interface WorkerDeps {
  logger: Logger;
  registry: Registry;
  keys: Keys;
  deliveries: DeliveryStore;
  outbox: Outbox;
  /** The command connection the stores use; stop() closes it. */
  redis: Redis;
  /** The delivery queue's connection (the sweeper re-enqueues on it, metrics count on it); stop() closes it. */
  queueRedis: Redis;
  /** The consumer's own connection (BullMQ: maxRetriesPerRequest null); stop() closes it. */
  consumerRedis: Redis;
  /** The presence sweep's store (and, with webhooks, who has a live socket). */
  presence: PresenceStore;
  /** With webhooks: the per-recipient limit's counters, the dead letters, and the webhook sender's own connection (stop() closes it). */
  limiter?: RateLimiter;
  deadLetters?: WebhookDeadLetters;
  webhookRedis?: Redis;
  isReady: () => Promise<boolean>;
  settings: WorkerSettings;
}

export interface DeliveryWorker extends Service {
  /** The ops routes' server (its address once started). */
  server: Server;
}

/**
 * The delivery worker: consumes the delivery queue (a drain job publishes what its partition's
 * outbox owes to the members' channels, one script per batch), enqueues drains for what the outbox
 * says waited too long, and serves the ops
 * routes. start() resolves once its loop runs and the ops routes listen; stop() lets the jobs in hand finish
 * (anything unfinished is picked up again as stalled), then closes its connections.
 */
export function createWorker(deps: WorkerDeps): DeliveryWorker {
  const { logger, settings } = deps;
  const queues = createDeliveryQueues(deps.queueRedis, deps.keys);
  const metrics = createWorkerMetrics(deps.registry, queues.all);
  const webhooks = settings.webhook && createWebhooks(deps, settings.webhook);
  const processJob = createProcessDeliveryJob({
      deliveries: deps.deliveries,
      logger,
      batchSize: settings.drainBatchSize,
      maxRounds: settings.drainMaxRounds,
      lingerMs: settings.drainLingerMs,
      idleMs: settings.drainIdleMs,
      enqueueDrain: async (partition, delayMs) => {
        await queues.of(partition).add(DRAIN_JOB, { partition }, delayMs === undefined ? DELIVERY_JOB_OPTIONS : { ...DELIVERY_JOB_OPTIONS, delay: delayMs });
      },
      onPublished: (recipients) => metrics.published.inc(recipients),
      onDrained: (messages) => metrics.drained.observe(messages),
      ...(webhooks && { onEvents: (events: string[]) => webhooks.notifier.offer(events) }),
    });
  // One consumer per queue: on a cluster, every partition's (each takes its jobs from its own slot).
  const consumers = deps.keys.queuePrefixes().map((queuePrefix) =>
    createDeliveryConsumer({
      connection: deps.consumerRedis,
      queuePrefix,
      process: processJob,
      metrics,
      logger,
      concurrency: settings.concurrency,
      lockDurationMs: settings.lockDurationMs,
      stalledIntervalMs: settings.stalledIntervalMs,
    }),
  );
  const server = createOpsServer({
    registry: deps.registry,
    isReady: deps.isReady,
    onError: (error) => logger.error({ err: error }, 'ops route failed'),
  });
  let sweeper: { stop(): Promise<void> } | undefined;
  let presenceSweeper: { stop(): Promise<void> } | undefined;
  let stopping: Promise<void> | undefined;

  return {
    server,
    async start() {
      // As BullMQ's autorun does it: the loop's promise settles only when the worker closes. Not
      // awaited: while Redis is away the worker still answers /healthz (and /readyz says 503).
      await claimKeyLayout(deps.redis, deps.keys);
      for (const consumer of consumers) consumer.run().catch((error: Error) => consumer.emit('error', error));
      webhooks?.sender.run().catch((error: Error) => webhooks.sender.emit('error', error));
      sweeper = startOutboxSweeper({
        outbox: deps.outbox,
        queues,
        logger,
        intervalMs: settings.sweepIntervalMs,
        graceMs: settings.sweepGraceMs,
        onRequeued: (count) => metrics.requeued.inc(count),
      });
      presenceSweeper = startPresenceSweeper({
        presence: deps.presence,
        logger,
        intervalMs: settings.presenceSweepIntervalMs,
        onSweptOffline: (count) => metrics.sweptOffline.inc(count),
      });
      server.listen(settings.port, settings.host);
      await once(server, 'listening');
      logger.info({ port: (server.address() as AddressInfo).port, concurrency: settings.concurrency }, 'worker running');
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all(consumers.map((consumer) => consumer.close()));
        await sweeper?.stop();
        await presenceSweeper?.stop();
        await queues.close();
        if (webhooks) await webhooks.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        await Promise.all([deps.redis, deps.queueRedis, deps.consumerRedis, ...(deps.webhookRedis ? [deps.webhookRedis] : [])].map(closeRedis));
      })();
      return stopping;
    },
  };
}

/** Offline notifications: the notifier the drains feed, the webhook queue and its sender. */
function createWebhooks(deps: WorkerDeps, settings: WebhookSettings) {
  const { limiter, deadLetters, webhookRedis } = deps;
  if (!limiter || !deadLetters || !webhookRedis) throw new Error('webhooks need limiter, deadLetters and webhookRedis');
  const queue = new Queue<OfflineWebhook>(WEBHOOK_QUEUE, { connection: deps.queueRedis, prefix: deps.keys.webhookQueuePrefix });
  const metrics = createWebhookMetrics(deps.registry, queue);
  const notifier: OfflineNotifier = createOfflineNotifier({
    presence: deps.presence,
    limiter,
    queue,
    perRecipient: { scope: 'webhook-recipient', limit: settings.perRecipient, windowMs: settings.windowMs },
    jobOptions: { attempts: settings.attempts, backoff: { type: 'exponential', delay: settings.backoffMs } },
    metrics,
    logger: deps.logger,
  });
  const sender = createWebhookSender({
    connection: webhookRedis,
    queuePrefix: deps.keys.webhookQueuePrefix,
    url: settings.url,
    secret: settings.secret,
    timeoutMs: settings.timeoutMs,
    concurrency: settings.concurrency,
    deadLetter: (entry) => deadLetters.add(entry),
    metrics,
    logger: deps.logger,
  });
  return {
    notifier,
    sender,
    /** After the drains stopped: what they offered is enqueued, then the sender finishes its POSTs. */
    async close() {
      await notifier.idle();
      await sender.close();
      await queue.close();
    },
  };
}
