import { Queue, Worker } from 'bullmq';
import { DELIVERY_QUEUE, type DeliveryJob } from '@chat/contracts';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { createMetricsRegistry, createOpsServer } from '@chat/metrics';
import { configOrExit, onShutdownSignal, watchRedis } from '@chat/runtime';
import { connectRedis, createDeliveryStore, createKeys, createOutbox, redisAnswers } from '@chat/store';
import { loadWorkerConfig } from './config.js';
import { createDeliverMessage } from './deliver-message.js';
import { startOutboxSweeper } from './outbox-sweeper.js';
import { createWorkerMetrics } from './worker-metrics.js';

const config = configOrExit('worker', loadWorkerConfig);
const identity = createProcessIdentity('worker');
const logger = createLogger(identity, { level: config.LOG_LEVEL });
const registry = createMetricsRegistry(identity);
const keys = createKeys(config.REDIS_PREFIX);

const redis = connectRedis({ url: config.REDIS_URL, name: `${identity.instance}:command`, role: 'command' });
const queueRedis = connectRedis({ url: config.REDIS_URL, name: `${identity.instance}:queue`, role: 'queue' });
watchRedis({ command: redis, queue: queueRedis }, logger, registry);

const queue = new Queue<DeliveryJob>(DELIVERY_QUEUE, { connection: queueRedis, prefix: keys.queuePrefix });
const metrics = createWorkerMetrics(registry, queue);
const deliverMessage = createDeliverMessage({
  deliveries: createDeliveryStore(redis, keys),
  logger,
  onPublished: (recipients) => metrics.published.inc(recipients),
});

const worker = new Worker<DeliveryJob>(
  DELIVERY_QUEUE,
  async (job) => {
    const stopTimer = metrics.duration.startTimer();
    try {
      return await deliverMessage(job.data);
    } finally {
      stopTimer();
    }
  },
  {
    // The worker's own blocking connection is created from these options (maxRetriesPerRequest null).
    connection: queueRedis.duplicate({ connectionName: `${identity.instance}:worker` }),
    prefix: keys.queuePrefix,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    // A job whose worker was killed is taken back, not failed: it has done nothing harmful.
    maxStalledCount: 10,
    autorun: true,
  },
);
worker.on('completed', () => metrics.jobs.inc({ outcome: 'completed' }));
worker.on('failed', (job, error) => {
  metrics.jobs.inc({ outcome: 'failed' });
  logger.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: { message: error.message } }, 'delivery job failed');
});
worker.on('error', (error) => logger.warn({ err: { message: error.message } }, 'worker error'));

const sweeper = startOutboxSweeper({
  outbox: createOutbox(redis, keys),
  queue,
  logger,
  intervalMs: config.OUTBOX_SWEEP_INTERVAL_MS,
  graceMs: config.OUTBOX_GRACE_MS,
  onRequeued: (count) => metrics.requeued.inc(count),
});

const server = createOpsServer({
  registry,
  isReady: () => redisAnswers(redis),
  onError: (error) => logger.error({ err: error }, 'ops route failed'),
});
server.listen(config.WORKER_PORT, config.WORKER_HOST, () => {
  logger.info({ port: config.WORKER_PORT, concurrency: config.WORKER_CONCURRENCY }, 'worker running');
});

onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
  // close() lets the jobs in hand finish; anything not finished is picked up again as stalled.
  await worker.close();
  await sweeper.stop();
  await queue.close();
  server.close();
  await Promise.allSettled([redis.quit(), queueRedis.quit()]);
});
