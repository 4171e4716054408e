import { Worker } from 'bullmq';
import { DELIVERY_QUEUE, type DeliveryJob, type DrainJob } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { Redis } from '@chat/store';
import type { WorkerMetrics } from './worker-metrics.js';

export interface DeliveryConsumerDeps {
  /** The consumer's own connection; BullMQ duplicates it for its blocking reads. */
  connection: Redis;
  queuePrefix: string;
  process: (name: string, data: unknown) => Promise<number>;
  metrics: WorkerMetrics;
  logger: Logger;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/**
 * The BullMQ consumer of the delivery queue, timed and counted; not running until `run()`. A job
 * whose worker was killed is taken back, not failed: it has done nothing harmful.
 */
export function createDeliveryConsumer(deps: DeliveryConsumerDeps): Worker<DrainJob | DeliveryJob> {
  const { metrics, logger } = deps;
  const consumer = new Worker<DrainJob | DeliveryJob>(
    DELIVERY_QUEUE,
    async (job) => {
      const stopTimer = metrics.duration.startTimer();
      try {
        return await deps.process(job.name, job.data);
      } finally {
        stopTimer();
      }
    },
    {
      connection: deps.connection,
      prefix: deps.queuePrefix,
      concurrency: deps.concurrency,
      lockDuration: deps.lockDurationMs,
      stalledInterval: deps.stalledIntervalMs,
      maxStalledCount: 10,
      autorun: false,
    },
  );
  consumer.on('completed', () => metrics.jobs.inc({ outcome: 'completed' }));
  consumer.on('failed', (job, error) => {
    metrics.jobs.inc({ outcome: 'failed' });
    logger.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: { message: error.message } }, 'delivery job failed');
  });
  consumer.on('error', (error) => logger.warn({ err: { message: error.message } }, 'worker error'));
  return consumer;
}
