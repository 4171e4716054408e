import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Opens idle sockets from several threads of this process. One thread's WebSocket client (the
 * handshakes, the `ready` frames) saturated a core before the gateway did, so the connect rate
 * measured the generator, not the gateway.
 */
export interface ThreadedSockets {
  opened: number;
  seconds: number;
  problems: string[];
  close(): Promise<void>;
}

interface ThreadReport {
  ready?: boolean;
  opened?: number;
  problems?: string[];
  closed?: boolean;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * `localPorts` (see source-ports.ts) are shared out among the threads; a thread that has used up
 * its share lets the kernel choose.
 */
export async function connectFromThreads(wsUrl: string, tokens: string[], concurrency: number, localPorts: number[]): Promise<ThreadedSockets> {
  const threads = Math.max(1, Math.min(availableParallelism(), 4));
  const shareOf = <T>(items: T[], thread: number) => items.filter((_, i) => i % threads === thread);
  const started = performance.now();
  const workers = Array.from(
    { length: threads },
    (_, thread) =>
      new Worker(new URL('./idle-connector-thread.mjs', import.meta.url), {
        workerData: {
          wsUrl,
          tokens: shareOf(tokens, thread),
          localPorts: shareOf(localPorts, thread),
          concurrency: Math.ceil(concurrency / threads),
          readyTimeoutMs: READY_TIMEOUT_MS,
        },
      }),
  );
  const nextReport = (worker: Worker, what: keyof ThreadReport) =>
    new Promise<ThreadReport>((resolve, reject) => {
      const onMessage = (report: ThreadReport) => {
        if (!report[what]) return;
        worker.off('message', onMessage);
        resolve(report);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  const reports = await Promise.all(workers.map((worker) => nextReport(worker, 'ready')));
  const seconds = (performance.now() - started) / 1000;
  return {
    opened: reports.reduce((sum, report) => sum + (report.opened ?? 0), 0),
    seconds,
    problems: reports.flatMap((report) => report.problems ?? []).slice(0, 20),
    async close() {
      await Promise.all(
        workers.map(async (worker) => {
          const closed = nextReport(worker, 'closed');
          worker.postMessage('close');
          await closed;
          await worker.terminate();
        }),
      );
    },
  };
}
