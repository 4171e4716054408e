import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { WEBHOOK_QUEUE, WEBHOOK_SIGNATURE_HEADER, type OfflineWebhook } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { Redis, WebhookDeadLetter } from '@chat/store';
import type { WebhookMetrics } from './webhook-metrics.js';
import { signWebhook } from './webhook-signature.js';

export interface WebhookSenderDeps {
  /** The sender's own connection; BullMQ duplicates it for its blocking reads. */
  connection: Redis;
  queuePrefix: string;
  url: string;
  secret: string;
  timeoutMs: number;
  concurrency: number;
  /** Records a webhook given up on (rejected, or out of attempts). */
  deadLetter: (entry: WebhookDeadLetter) => Promise<void>;
  metrics: WebhookMetrics;
  logger: Logger;
}

/** The receiver refused the body (4xx, or answered with a redirect): sending it again cannot help. */
class WebhookRejectedError extends UnrecoverableError {
  constructor(readonly status: number) {
    super(`the receiver answered ${status}`);
    this.name = this.constructor.name;
  }
}

/** The receiver failed (5xx): it may recover, so the attempt is retried. */
class WebhookReceiverError extends Error {
  constructor(readonly status: number) {
    super(`the receiver answered ${status}`);
    this.name = this.constructor.name;
  }
}

/**
 * The consumer of the webhook queue: POSTs each body, signed afresh at every attempt, with a
 * timeout. A 2xx is done; a 4xx (or a 3xx: redirects are not followed) is final; a network error,
 * a timeout or a 5xx is retried with exponential backoff (the job's options) and, after the last
 * attempt, dead-lettered.
 */
export function createWebhookSender(deps: WebhookSenderDeps): Worker<OfflineWebhook> {
  const { metrics, logger } = deps;

  async function post(webhook: OfflineWebhook): Promise<void> {
    const body = JSON.stringify(webhook);
    const signature = signWebhook(deps.secret, body, Math.floor(Date.now() / 1000));
    const response = await fetch(deps.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [WEBHOOK_SIGNATURE_HEADER]: signature },
      body,
      signal: AbortSignal.timeout(deps.timeoutMs),
      redirect: 'manual',
    });
    // The body is not needed; reading it frees the connection for the next request.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return;
    // Only a failing receiver (5xx) may do better later; a 4xx (or a redirect, not followed) will not.
    if (response.status >= 500) throw new WebhookReceiverError(response.status);
    throw new WebhookRejectedError(response.status);
  }

  async function send(job: Job<OfflineWebhook>): Promise<void> {
    const stopTimer = metrics.duration.startTimer();
    try {
      await post(job.data);
      stopTimer({ outcome: 'sent' });
      metrics.sent.inc();
    } catch (error) {
      stopTimer({ outcome: 'failed' });
      const attempt = job.attemptsMade + 1;
      const rejected = error instanceof WebhookRejectedError;
      if (!rejected && attempt < (job.opts.attempts ?? 1)) {
        metrics.retried.inc();
        throw error;
      }
      metrics.failed.inc({ reason: rejected ? 'rejected' : 'exhausted' });
      const status = error instanceof WebhookRejectedError || error instanceof WebhookReceiverError ? error.status : null;
      const message = error instanceof Error ? error.message : String(error);
      logger.warn({ messageId: job.data.message.id, attempts: attempt, status, err: { message } }, 'webhook given up; dead-lettered');
      await deps.deadLetter({ failedAt: new Date().toISOString(), attempts: attempt, status, error: message, webhook: job.data });
      // Final either way: not retried, and gone from the queue (removeOnFail).
      throw new UnrecoverableError(message);
    }
  }

  const sender = new Worker<OfflineWebhook>(WEBHOOK_QUEUE, send, {
    connection: deps.connection,
    prefix: deps.queuePrefix,
    concurrency: deps.concurrency,
    autorun: false,
  });
  sender.on('error', (error) => logger.warn({ err: { message: error.message } }, 'webhook sender error'));
  return sender;
}
