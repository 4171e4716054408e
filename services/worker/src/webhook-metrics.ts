import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, type Registry } from '@chat/metrics';

/** Offline notifications: what was enqueued, sent, retried, failed for good, and how long the receiver took. */
export function createWebhookMetrics(registry: Registry, queue: Queue) {
  const registers = [registry];
  new Gauge({
    name: 'chat_webhook_queue_jobs',
    help: 'Webhook queue jobs by state',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed').catch(() => undefined);
      if (!counts) return;
      for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
    },
  });
  return {
    enqueued: new Counter({ name: 'chat_webhooks_enqueued_total', help: 'Offline notifications enqueued (one per message with offline recipients)', registers }),
    sent: new Counter({ name: 'chat_webhooks_sent_total', help: 'Webhooks the receiver accepted (2xx)', registers }),
    retried: new Counter({
      name: 'chat_webhooks_retried_total',
      help: 'Webhook attempts that failed and will be retried (network error, timeout, 5xx)',
      registers,
    }),
    failed: new Counter({
      name: 'chat_webhooks_failed_total',
      help: 'Webhooks given up on and dead-lettered: rejected (4xx) or out of attempts',
      labelNames: ['reason'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'chat_webhook_duration_seconds',
      help: 'Time one webhook attempt took, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    recipientsLimited: new Counter({
      name: 'chat_webhook_recipients_limited_total',
      help: 'Offline recipients left out of a notification by the per-recipient rate limit',
      registers,
    }),
    notifyFailures: new Counter({
      name: 'chat_webhook_notify_failures_total',
      help: 'Drains whose offline notifications could not be worked out or enqueued (Redis failed)',
      registers,
    }),
  };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;
