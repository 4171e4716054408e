import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DELIVERY_JOB_OPTIONS, DRAIN_JOB } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import { createOpsServer, type Registry } from '@chat/metrics';
import type { Service } from '@chat/runtime';
import { claimKeyLayout, closeRedis, type DeliveryStore, type Keys, type Outbox, type Redis } from '@chat/store';
import { createDeliveryConsumer } from './delivery-consumer.js';
import { createDeliveryQueues } from './delivery-queues.js';
import { startOutboxSweeper } from './outbox-sweeper.js';
import { createProcessDeliveryJob } from './process-delivery-job.js';
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
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How often the outbox sweeper runs, and how old an entry must be for it to re-enqueue it. */
  sweepIntervalMs: number;
  sweepGraceMs: number;
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
  const processJob = createProcessDeliveryJob({
      deliveries: deps.deliveries,
      logger,
      batchSize: settings.drainBatchSize,
      maxRounds: settings.drainMaxRounds,
      lingerMs: settings.drainLingerMs,
      enqueueDrain: async (partition, delayMs) => {
        await queues.of(partition).add(DRAIN_JOB, { partition }, delayMs === undefined ? DELIVERY_JOB_OPTIONS : { ...DELIVERY_JOB_OPTIONS, delay: delayMs });
      },
      onPublished: (recipients) => metrics.published.inc(recipients),
      onDrained: (messages) => metrics.drained.observe(messages),
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
  let stopping: Promise<void> | undefined;

  return {
    server,
    async start() {
      // As BullMQ's autorun does it: the loop's promise settles only when the worker closes. Not
      // awaited: while Redis is away the worker still answers /healthz (and /readyz says 503).
      await claimKeyLayout(deps.redis, deps.keys);
      for (const consumer of consumers) consumer.run().catch((error: Error) => consumer.emit('error', error));
      sweeper = startOutboxSweeper({
        outbox: deps.outbox,
        queues,
        logger,
        intervalMs: settings.sweepIntervalMs,
        graceMs: settings.sweepGraceMs,
        onRequeued: (count) => metrics.requeued.inc(count),
      });
      server.listen(settings.port, settings.host);
      await once(server, 'listening');
      logger.info({ port: (server.address() as AddressInfo).port, concurrency: settings.concurrency }, 'worker running');
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all(consumers.map((consumer) => consumer.close()));
        await sweeper?.stop();
        await queues.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        await Promise.all([deps.redis, deps.queueRedis, deps.consumerRedis].map(closeRedis));
      })();
      return stopping;
    },
  };
}
