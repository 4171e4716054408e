import type { Queue } from 'bullmq';
import { decodeDeliveryEvent, messageFrameSchema, WEBHOOK_JOB, type OfflineWebhook, type Summary } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { PresenceStore, RateLimit, RateLimiter } from '@chat/store';
import type { WebhookMetrics } from './webhook-metrics.js';

export interface OfflineNotifierDeps {
  presence: Pick<PresenceStore, 'withLiveSocket'>;
  limiter: Pick<RateLimiter, 'hit'>;
  queue: Queue<OfflineWebhook>;
  /** Notifications one recipient may get per window; those beyond are left out of the recipients. */
  perRecipient: RateLimit;
  /** BullMQ options of each webhook job: attempts and exponential backoff. */
  jobOptions: { attempts: number; backoff: { type: 'exponential'; delay: number } };
  metrics: WebhookMetrics;
  logger: Logger;
}

/** The Summary a message frame carries, or undefined when the bytes are not one. */
function summaryOf(frame: Buffer): Summary | undefined {
  try {
    const parsed = messageFrameSchema.safeParse(JSON.parse(frame.toString()));
    return parsed.success ? parsed.data.data : undefined;
  } catch {
    return undefined;
  }
}

/** Completed webhook jobs are kept this long, so a message enqueued twice (job id = its id) is sent once. */
const KEEP_COMPLETED_S = 3600;

/**
 * Turns the events a drain published into offline notifications: per message, the members named
 * (the author excluded) who have no live socket on any gateway now, minus those over their rate
 * limit, go into one webhook job. It runs beside the drain, never in its way: the drain hands the
 * events over and goes on, so Redis reads for presence and the enqueue never delay a delivery,
 * and a slow receiver only ever holds up its own queue. Only built when WEBHOOK_URL is set.
 */
export function createOfflineNotifier(deps: OfflineNotifierDeps) {
  const inFlight = new Set<Promise<void>>();

  async function notify(events: readonly string[]): Promise<void> {
    const now = Date.now();
    const messages = [];
    for (const raw of events) {
      const event = decodeDeliveryEvent(Buffer.from(raw));
      // Only a new message notifies: an edit or a deletion (message_updated) of one does not.
      if (event?.updated) continue;
      const message = event && summaryOf(event.frame);
      if (!event || !message) {
        deps.logger.debug('skipping an event that does not decode');
        continue;
      }
      const candidates = event.members.filter((member) => member !== message.author);
      if (candidates.length > 0) messages.push({ message, candidates });
    }
    if (messages.length === 0) return;
    const live = await deps.presence.withLiveSocket([...new Set(messages.flatMap((m) => m.candidates))], now);
    for (const { message, candidates } of messages) {
      const offline = candidates.filter((user) => !live.has(user));
      if (offline.length === 0) continue;
      const verdicts = await Promise.all(offline.map((user) => deps.limiter.hit(deps.perRecipient, user)));
      const recipients = offline.filter((_, index) => verdicts[index]?.allowed);
      deps.metrics.recipientsLimited.inc(offline.length - recipients.length);
      if (recipients.length === 0) continue;
      await deps.queue.add(
        WEBHOOK_JOB,
        { event: WEBHOOK_JOB, message, recipients },
        { ...deps.jobOptions, jobId: message.id, removeOnComplete: { age: KEEP_COMPLETED_S }, removeOnFail: true },
      );
      deps.metrics.enqueued.inc();
    }
  }

  return {
    /** The events one drain published; handled in the background. */
    offer(events: readonly string[]): void {
      if (events.length === 0) return;
      const running = notify(events).catch((error: unknown) => {
        deps.metrics.notifyFailures.inc();
        deps.logger.warn({ err: error, messages: events.length }, 'offline notifications not enqueued');
      });
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
    },
    /** Waits for what was offered so far (shutdown). */
    async idle(): Promise<void> {
      await Promise.all(inFlight);
    },
  };
}

export type OfflineNotifier = ReturnType<typeof createOfflineNotifier>;
