import type { Queue } from 'bullmq';
import { DELIVERY_JOB, DELIVERY_JOB_OPTIONS, type DeliveryJob } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { Outbox } from '@chat/store';

export interface OutboxSweeperDeps {
  outbox: Outbox;
  queue: Queue<DeliveryJob>;
  logger: Logger;
  intervalMs: number;
  graceMs: number;
  onRequeued: (count: number) => void;
}

const BATCH = 500;

/**
 * Re-enqueues messages that were stored but whose job never made it into the queue (an api crash
 * or a Redis hiccup between the two). Adding a job whose id still exists is a no-op in BullMQ, and
 * gateways drop seqs a socket already has, so a re-enqueue never doubles a delivery.
 */
export function startOutboxSweeper(deps: OutboxSweeperDeps): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;

  async function sweep(): Promise<void> {
    const overdue = await deps.outbox.overdue(deps.graceMs, BATCH);
    let requeued = 0;
    for (const { entry, job } of overdue) {
      if (!job) {
        deps.logger.warn({ entry }, 'dropping malformed outbox entry');
        await deps.outbox.remove(entry);
        continue;
      }
      await deps.queue.add(DELIVERY_JOB, job, { ...DELIVERY_JOB_OPTIONS, jobId: job.messageId });
      requeued += 1;
    }
    if (requeued > 0) {
      deps.logger.info({ requeued }, 'outbox sweeper re-enqueued deliveries');
      deps.onRequeued(requeued);
    }
  }

  const timer = setInterval(() => {
    if (running || stopped) return;
    running = sweep()
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'outbox sweep failed; will retry'))
      .finally(() => {
        running = undefined;
      });
  }, deps.intervalMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
