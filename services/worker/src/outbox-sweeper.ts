import { DELIVERY_JOB, DELIVERY_JOB_OPTIONS, DRAIN_JOB } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { Outbox } from '@chat/store';
import { startPeriodicTask } from './periodic-task.js';
import type { DeliveryQueues } from './delivery-queues.js';

export interface OutboxSweeperDeps {
  outbox: Outbox;
  queues: DeliveryQueues;
  logger: Logger;
  intervalMs: number;
  graceMs: number;
  onRequeued: (count: number) => void;
}

const LEGACY_BATCH = 500;

/**
 * Enqueues a drain for every partition whose oldest outbox entry has waited longer than the grace
 * period: its api died (or Redis hiccuped) between storing a message and enqueueing the drain, or
 * the drain failed for good. A drain publishes each entry once however many run, and the job id
 * names the partition and the grace period, so sweeps in a row while the job waits add no more.
 * Entries of the pre-partition outbox get their legacy per-message job (job id = message id).
 */
export function startOutboxSweeper(deps: OutboxSweeperDeps): { stop(): Promise<void> } {
  async function sweep(): Promise<void> {
    const period = Math.floor(Date.now() / deps.graceMs);
    const partitions = await deps.outbox.overduePartitions(deps.graceMs);
    for (const partition of partitions) {
      await deps.queues.of(partition).add(DRAIN_JOB, { partition }, { ...DELIVERY_JOB_OPTIONS, jobId: `sweep-${partition}-${period}` });
    }
    let legacy = 0;
    for (const { entry, job } of await deps.outbox.overdueLegacy(deps.graceMs, LEGACY_BATCH)) {
      if (!job) {
        deps.logger.warn({ entry }, 'dropping malformed outbox entry');
        await deps.outbox.removeLegacy(entry);
        continue;
      }
      // Only one Redis has legacy entries, and one queue.
      await deps.queues.of(0).add(DELIVERY_JOB, job, { ...DELIVERY_JOB_OPTIONS, jobId: job.messageId });
      legacy += 1;
    }
    const requeued = partitions.length + legacy;
    if (requeued > 0) {
      deps.logger.info({ partitions, legacy }, 'outbox sweeper enqueued overdue deliveries');
      deps.onRequeued(requeued);
    }
  }

  return startPeriodicTask(sweep, deps.intervalMs, (error) => deps.logger.warn({ err: error }, 'outbox sweep failed; will retry'));
}
