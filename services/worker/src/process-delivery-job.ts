import { setTimeout } from 'node:timers/promises';
import { UnrecoverableError } from 'bullmq';
import { DELIVERY_JOB, DRAIN_JOB, deliveryJobSchema, drainJobSchema } from '@chat/contracts';
import { WAKE_TTL_MS, type DeliveryStore, type DrainOutcome } from '@chat/store';
import type { Logger } from '@chat/logger';

/** How soon entries whose conversation was not found (a cluster slot migrating) are tried again. */
const WAITING_RETRY_MS = 500;

/** A lingering job renews its partition's wake flag this often, well within the flag's TTL. */
const WAKE_RENEW_MS = WAKE_TTL_MS / 4;

export interface ProcessDeliveryJobDeps {
  deliveries: DeliveryStore;
  logger: Logger;
  /** Outbox entries one drain script takes at most. */
  batchSize: number;
  /**
   * Drain scripts one job runs at most while its partition still owes more; then it hands the rest
   * to a new job, so a job under a flood still ends (and a closing worker is not held up).
   */
  maxRounds: number;
  /**
   * After a drain that found messages, how long the job waits to drain again, holding the wake
   * flag so that what arrives meanwhile rides on this job; 0: never. It ends at the first empty
   * drain, so a message on an idle partition is published at once and costs one more script.
   */
  lingerMs: number;
  /**
   * How long after its last drain that found messages a lingering job keeps draining (every
   * lingerMs) through empty ones; 0: the first empty drain ends it. Messages of a partition with
   * shorter gaps than this then wake no job at all.
   */
  idleMs: number;
  /** Enqueues a new drain of the partition (the rest of a flood), now or after `delayMs`. */
  enqueueDrain: (partition: number, delayMs?: number) => Promise<void>;
  /** Members named by the events just published (deliveries owed). */
  onPublished: (recipients: number) => void;
  /** Messages one drain job delivered (0: an earlier drain took them). */
  onDrained: (messages: number) => void;
  /** When set, each drain also reports the events it published (offline notifications); unset, that costs nothing. */
  onEvents?: (events: string[]) => void;
}

/**
 * The job processor. A drain job delivers what its partition's outbox owes, one atomic script per
 * batch (stored message + current title + current members make the event, published once on the
 * conversation's channel, entry removed), looping while entries remain. A legacy per-message job (left in the
 * queue by a release before partitions) is delivered from the old outbox as before.
 */
export function createProcessDeliveryJob(deps: ProcessDeliveryJobDeps) {
  async function drain(partition: number): Promise<number> {
    let delivered = 0;
    let last: DrainOutcome;
    let renewedAt = Number.NEGATIVE_INFINITY;
    // A job whose first drain finds nothing (another took its messages) ends at once, as before.
    let foundAt = Number.NEGATIVE_INFINITY;
    for (let round = 1; ; round += 1) {
      // The last round always clears the flag: a job never ends holding it.
      const final = round >= deps.maxRounds;
      let stayAwake: 'renew' | 'keep' | undefined;
      if (deps.lingerMs > 0 && !final) {
        // Renewing the flag's TTL costs a command: once per quarter TTL is enough to keep it.
        stayAwake = Date.now() - renewedAt >= WAKE_RENEW_MS ? 'renew' : 'keep';
        if (stayAwake === 'renew') renewedAt = Date.now();
      }
      const evenIfIdle = Date.now() - foundAt < deps.idleMs;
      last = await deps.deliveries.drain(partition, deps.batchSize, { stayAwake, evenIfIdle, report: deps.onEvents !== undefined });
      if (last.delivered + last.gone + last.malformed > 0) foundAt = Date.now();
      delivered += last.delivered;
      deps.onPublished(last.recipients);
      if (last.events) deps.onEvents?.(last.events);
      if (last.gone + last.malformed > 0) {
        deps.logger.debug({ partition, gone: last.gone, malformed: last.malformed }, 'outbox entries with nothing to publish');
      }
      if (last.awake) {
        // Promised another round: messages appended from now on wait for it, not for a job.
        if (!last.more) await setTimeout(deps.lingerMs);
        continue;
      }
      if (final || !last.more) break;
    }
    // Entries left behind were taken from under the wake flag this job cleared: nobody else enqueues for them.
    if (last.more) await deps.enqueueDrain(partition);
    else if (last.waiting > 0) {
      // Their conversation's keys are on their way to another cluster node: try again shortly.
      deps.logger.debug({ partition, waiting: last.waiting }, 'outbox entries wait for their conversation (slot migrating?)');
      await deps.enqueueDrain(partition, WAITING_RETRY_MS);
    }
    deps.onDrained(delivered);
    return delivered;
  }

  return async function processDeliveryJob(name: string, data: unknown): Promise<number> {
    if (name === DRAIN_JOB) {
      const parsed = drainJobSchema.safeParse(data);
      // A payload that can never succeed is not retried.
      if (!parsed.success) throw new UnrecoverableError('malformed drain job');
      return drain(parsed.data.partition);
    }
    if (name === DELIVERY_JOB) {
      const parsed = deliveryJobSchema.safeParse(data);
      if (!parsed.success) throw new UnrecoverableError('malformed delivery job');
      const outcome = await deps.deliveries.deliverLegacy(parsed.data);
      if (outcome.kind !== 'published') return 0;
      deps.onPublished(outcome.recipients);
      return 1;
    }
    throw new UnrecoverableError(`unknown delivery job ${name}`);
  };
}
