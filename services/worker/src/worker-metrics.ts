import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, type Registry } from '@chat/metrics';

/** What operators watch on a worker: throughput, failures, job time and the queue behind it. */
export function createWorkerMetrics(registry: Registry, queues: readonly Queue[]) {
  const registers = [registry];
  const jobs = new Counter({
    name: 'chat_delivery_jobs_total',
    help: 'Delivery jobs finished, by outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'chat_delivery_job_duration_seconds',
    help: 'Time to run one delivery job (a drain: every message its partition owed)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers,
  });
  const published = new Counter({
    name: 'chat_deliveries_published_total',
    help: 'Deliveries published: members named by the events (one event per message on its conversation channel)',
    registers,
  });
  const drained = new Histogram({
    name: 'chat_delivery_messages_per_job',
    help: 'Messages one drain job delivered: about 1 when idle, more under load (0: an earlier drain took them)',
    buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
    registers,
  });
  const requeued = new Counter({
    name: 'chat_outbox_requeued_total',
    help: 'Drain jobs (and legacy per-message jobs) the outbox sweeper had to enqueue for overdue entries',
    registers,
  });
  new Gauge({
    name: 'chat_delivery_queue_jobs',
    help: 'Delivery queue jobs by state (every partition\'s queue together)',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      // Every partition's queue together (one queue on one Redis).
      const counts = await Promise.all(queues.map((queue) => queue.getJobCounts('waiting', 'active', 'delayed', 'failed'))).catch(() => undefined);
      if (!counts) return;
      const totals = new Map<string, number>();
      for (const one of counts) for (const [state, count] of Object.entries(one)) totals.set(state, (totals.get(state) ?? 0) + count);
      for (const [state, count] of totals) this.set({ state }, count);
    },
  });
  const sweptOffline = new Counter({
    name: 'chat_presence_swept_offline_total',
    help: 'Users the presence sweep took offline because their last socket lease ran out (their gateway died)',
    registers,
  });
  return { jobs, duration, published, drained, requeued, sweptOffline };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
