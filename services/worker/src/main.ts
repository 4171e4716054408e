import { createLogger, createProcessIdentity } from '@chat/logger';
import { createMetricsRegistry } from '@chat/metrics';
import { redisSettings } from '@chat/config';
import { configOrExit, runService, watchRedis } from '@chat/runtime';
import {
  connectRedis,
  createDeliveryStore,
  createKeys,
  createOutbox,
  createPresenceStore,
  createRateLimiter,
  createWebhookDeadLetters,
  redisAnswers,
} from '@chat/store';
import { loadWorkerConfig } from './config.js';
import { createWorker } from './create-worker.js';

const config = configOrExit('worker', loadWorkerConfig);
const identity = createProcessIdentity('worker');
const logger = createLogger(identity, { level: config.LOG_LEVEL });
const registry = createMetricsRegistry(identity);
const { url, clusterNodes, partitions } = redisSettings(config);
const keys = createKeys(config.REDIS_PREFIX, { clustered: clusterNodes !== undefined, partitions });

const redis = connectRedis({ url, clusterNodes, name: `${identity.instance}:command`, role: 'command' });
const queueRedis = connectRedis({ url, clusterNodes, name: `${identity.instance}:queue`, role: 'queue' });
watchRedis({ command: redis, queue: queueRedis }, logger, registry);

const worker = createWorker({
  logger,
  registry,
  keys,
  deliveries: createDeliveryStore(redis, keys),
  outbox: createOutbox(redis, keys),
  redis,
  queueRedis,
  consumerRedis: connectRedis({ url, clusterNodes, name: `${identity.instance}:worker`, role: 'queue' }),
  presence: createPresenceStore(redis, keys),
  ...(config.WEBHOOK_URL !== undefined && {
    limiter: createRateLimiter(redis, keys),
    deadLetters: createWebhookDeadLetters(redis, keys),
    webhookRedis: connectRedis({ url, clusterNodes, name: `${identity.instance}:webhooks`, role: 'queue' }),
  }),
  isReady: () => redisAnswers(redis),
  settings: {
    host: config.WORKER_HOST,
    port: config.WORKER_PORT,
    concurrency: config.WORKER_CONCURRENCY,
    drainBatchSize: config.WORKER_DRAIN_BATCH,
    drainMaxRounds: config.WORKER_DRAIN_MAX_ROUNDS,
    drainLingerMs: config.WORKER_DRAIN_LINGER_MS,
    drainIdleMs: config.WORKER_DRAIN_IDLE_MS,
    lockDurationMs: config.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    sweepIntervalMs: config.OUTBOX_SWEEP_INTERVAL_MS,
    sweepGraceMs: config.OUTBOX_GRACE_MS,
    presenceSweepIntervalMs: config.PRESENCE_SWEEP_INTERVAL_MS,
    ...(config.WEBHOOK_URL !== undefined &&
      config.WEBHOOK_SECRET !== undefined && {
        webhook: {
          url: config.WEBHOOK_URL,
          secret: config.WEBHOOK_SECRET,
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
          attempts: config.WEBHOOK_ATTEMPTS,
          backoffMs: config.WEBHOOK_BACKOFF_MS,
          concurrency: config.WEBHOOK_CONCURRENCY,
          perRecipient: config.WEBHOOK_RATE_PER_RECIPIENT,
          windowMs: config.WEBHOOK_RATE_WINDOW_S * 1000,
        },
      }),
  },
});

await runService('worker', worker, logger, config.SHUTDOWN_TIMEOUT_MS);
