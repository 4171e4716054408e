import { Queue } from 'bullmq';
import { DELIVERY_QUEUE, type DeliveryJob, type DrainJob } from '@chat/contracts';
import type { Keys, Redis } from '@chat/store';

export type DeliveryQueue = Queue<DrainJob | DeliveryJob>;

export interface DeliveryQueues {
  /** Every queue: one on one Redis; on a cluster one per partition, each in its partition's slot. */
  readonly all: readonly DeliveryQueue[];
  /** The queue that drains `partition`. */
  of(partition: number): DeliveryQueue;
  close(): Promise<void>;
}

export function createDeliveryQueues(connection: Redis, keys: Keys): DeliveryQueues {
  const byPrefix = new Map(keys.queuePrefixes().map((prefix) => [prefix, new Queue<DrainJob | DeliveryJob>(DELIVERY_QUEUE, { connection, prefix })]));
  return {
    all: [...byPrefix.values()],
    of: (partition) => byPrefix.get(keys.queuePrefix(partition)) as DeliveryQueue,
    async close() {
      await Promise.all([...byPrefix.values()].map((queue) => queue.close()));
    },
  };
}
