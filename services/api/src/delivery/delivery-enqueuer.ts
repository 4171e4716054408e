import { Queue } from 'bullmq';
import { DELIVERY_JOB_OPTIONS, DELIVERY_QUEUE, DRAIN_JOB, type DrainJob } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { Keys, Redis } from '@chat/store';

export interface DeliveryEnqueuer {
  /**
   * Enqueues the drain of a partition that a message woke. Never throws: a drain that cannot be
   * enqueued now is left to the next message once the wake flag expires, or to the outbox sweeper.
   */
  enqueue(drain: DrainJob, log: Logger): Promise<void>;
  close(): Promise<void>;
}

/** The drain queue of each partition: one for all on one Redis, one per partition (in its slot) on a cluster. */
export function createDeliveryEnqueuer(connection: Redis, keys: Keys, timeoutMs: number): DeliveryEnqueuer {
  const queues = new Map(keys.queuePrefixes().map((prefix) => [prefix, new Queue<DrainJob>(DELIVERY_QUEUE, { connection, prefix })]));
  const queueOf = (partition: number) => queues.get(keys.queuePrefix(partition)) as Queue<DrainJob>;
  return {
    async enqueue(drain, log) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          // BullMQ numbers the job: every woken partition gets a drain of its own.
          queueOf(drain.partition).add(DRAIN_JOB, drain, DELIVERY_JOB_OPTIONS),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`enqueue timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } catch (error) {
        log.warn({ err: error, partition: drain.partition }, 'delivery left to the outbox sweeper');
      } finally {
        clearTimeout(timer);
      }
    },
    close: async () => {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
    },
  };
}
