import { z } from 'zod';
import { commonEnv, envPort, loadConfig, positiveInt } from '@chat/config';

const workerEnvSchema = z.object({
  ...commonEnv,
  /** Interface and port of the worker's small HTTP server (/healthz, /readyz, /metrics). */
  WORKER_HOST: z.string().default('127.0.0.1'),
  WORKER_PORT: envPort(3001),
  /**
   * Jobs processed at once, per delivery queue (one on one Redis; one per partition on a cluster).
   * Gateways restore per-conversation order, so more than 1 is safe.
   */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /** Outbox entries one drain script delivers at most (one atomic step: bounds how long Redis is busy). */
  WORKER_DRAIN_BATCH: z.coerce.number().int().min(1).max(4096).default(256),
  /** Drain scripts one job runs at most before it hands a flood's rest to a new job. */
  WORKER_DRAIN_MAX_ROUNDS: z.coerce.number().int().min(1).max(1000).default(200),
  /**
   * After a drain that found messages, how long the job waits to drain its partition again while
   * messages arriving meanwhile enqueue no job (0: never). At most this much added latency, for
   * messages of a busy partition only; fewer BullMQ jobs and drain rounds per message. 5, not 2:
   * at 1000 msg/s on the 2-core reference machine (README) 5 ms cut Redis commands per message
   * from ~12 to ~10.5 and the services' CPU by ~12 %, with the same delivery p99 (p50 +2 ms).
   */
  WORKER_DRAIN_LINGER_MS: z.coerce.number().int().min(0).max(100).default(5),
  /**
   * How long a lingering job keeps draining (every WORKER_DRAIN_LINGER_MS) after the last drain
   * that found messages, rather than ending at the first empty one (0: it ends there). A message
   * that finds no job lingering wakes its partition with a BullMQ job: ~1 ms of the api's CPU to
   * add it and a job's lifecycle in the worker and Redis (~40 commands), paid per message by a
   * partition with gaps longer than the linger (a big room at 50 msg/s, anything under 200 msg/s).
   * Staying awake through gaps of up to this long costs an empty drain per linger instead, and
   * only during the spell: with 50, a partition receiving 20 msg/s or more wakes almost no job.
   * Measured on the 2-core reference machine (README, Performance), services' CPU against 0 (off):
   * 1 msg/s +1.7 % of a core, 10 msg/s +1.9 %, 25 msg/s −6 %; 100 gave +2.7, +5.7 and −8.6 %.
   */
  WORKER_DRAIN_IDLE_MS: z.coerce.number().int().min(0).max(5000).default(50),
  /** How long a job's lock lasts; a worker that dies holding it loses the job after this. */
  WORKER_LOCK_DURATION_MS: positiveInt(30_000),
  /** How often workers look for jobs whose worker died (stalled) and take them back. */
  WORKER_STALLED_INTERVAL_MS: positiveInt(30_000),
  /** How often the outbox sweeper looks for accepted messages that were never enqueued. */
  OUTBOX_SWEEP_INTERVAL_MS: positiveInt(5000),
  /** How long an outbox entry may wait before the sweeper enqueues a drain of its partition. */
  OUTBOX_GRACE_MS: positiveInt(15_000),
  /**
   * How often the presence sweep takes offline the users whose last socket lease ran out (their
   * gateway died). With the gateways' PRESENCE_TTL_MS (40 s) it bounds how long they look online: 50 s.
   */
  PRESENCE_SWEEP_INTERVAL_MS: positiveInt(10_000),
  /** Where offline notifications are POSTed; unset: none (and no cost per message). */
  WEBHOOK_URL: z.string().url().optional(),
  /** Signs each POST (X-Chat-Signature); required with WEBHOOK_URL. */
  WEBHOOK_SECRET: z.string().min(16, 'WEBHOOK_SECRET must be at least 16 bytes').optional(),
  /** An attempt that gets no answer in this time failed (and is retried). */
  WEBHOOK_TIMEOUT_MS: positiveInt(5000),
  /** Attempts per notification before it is dead-lettered (a 4xx is final at once). */
  WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  /** First retry delay; each further one doubles (1 s, 2 s, … ~8.5 min for the 10th attempt). */
  WEBHOOK_BACKOFF_MS: positiveInt(1000),
  /** POSTs in flight at once per worker. */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** Notifications one recipient may get per WEBHOOK_RATE_WINDOW_S; beyond, they are left out of the recipients. */
  WEBHOOK_RATE_PER_RECIPIENT: positiveInt(30),
  WEBHOOK_RATE_WINDOW_S: positiveInt(60),
}).superRefine((env, ctx) => {
  if (env.WEBHOOK_URL !== undefined && env.WEBHOOK_SECRET === undefined) {
    ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: 'WEBHOOK_SECRET is required with WEBHOOK_URL' });
  }
});

export type WorkerConfig = z.infer<typeof workerEnvSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return loadConfig(workerEnvSchema, env);
}
