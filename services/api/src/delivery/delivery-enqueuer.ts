import { Queue } from 'bullmq';
import { DELIVERY_JOB, DELIVERY_JOB_OPTIONS, DELIVERY_QUEUE, type DeliveryJob } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { Redis } from '@chat/store';

export interface DeliveryEnqueuer {
  /** Never throws: a job that cannot be enqueued now stays in the outbox for the sweeper. */
  enqueue(job: DeliveryJob, log: Logger): Promise<void>;
  close(): Promise<void>;
}

export function createDeliveryEnqueuer(connection: Redis, queuePrefix: string, timeoutMs: number): DeliveryEnqueuer {
  const queue = new Queue<DeliveryJob>(DELIVERY_QUEUE, { connection, prefix: queuePrefix });
  return {
    async enqueue(job, log) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          queue.add(DELIVERY_JOB, job, { ...DELIVERY_JOB_OPTIONS, jobId: job.messageId }),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`enqueue timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } catch (error) {
        log.warn({ err: error, messageId: job.messageId }, 'delivery left to the outbox sweeper');
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => queue.close(),
  };
}
