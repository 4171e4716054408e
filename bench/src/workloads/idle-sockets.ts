import type { GatewayEndpoint } from '../bench-stack.js';
import { openFileLimit } from '../file-limits.js';
import { CpuSampler, processStatusBytes, type CpuUsage } from '../process-cpu.js';
import { metricValue, scrapeMetrics } from '../prometheus-scrape.js';
import type { RunContext } from '../run-context.js';
import { sourcePortsFor } from '../source-ports.js';
import { connectFromThreads, type ThreadedSockets } from '../threaded-connects.js';

export interface MemoryReading {
  /** VmRSS from /proc (when the pid is known). */
  rssProcBytes: number | undefined;
  /** process_resident_memory_bytes from the gateway's /metrics. */
  rssMetricBytes: number | undefined;
  /** nodejs_heap_size_used_bytes (after a forced GC when the gateway was started here). */
  heapUsedBytes: number | undefined;
  /** nodejs_external_memory_bytes: Buffers and native memory V8 knows of. */
  externalBytes: number | undefined;
}

export interface IdleReport {
  requestedSockets: number;
  sockets: number;
  /** Why fewer sockets than requested, if so. */
  limitedBy: string | null;
  openFileLimit: { soft: number | null; hard: number | null };
  gateway: { url: string; pid: number | null; fresh: boolean };
  /** Whether a full GC ran before each reading (only on a gateway this run started). */
  garbageCollected: boolean;
  /** Sockets ready ÷ seconds from the first connect to the last `ready` (concurrency as configured). */
  connectsPerSecond: number;
  connectSeconds: number;
  connectConcurrency: number;
  /** How the sockets' source ports were chosen (see source-ports.ts). */
  sourcePorts: string;
  before: MemoryReading;
  after: MemoryReading;
  /** (after − before) ÷ sockets, in bytes. */
  perSocket: { rssBytes: number | null; heapBytes: number | null; externalBytes: number | null };
  /** During the connects; 100 = one core. */
  cpuDuringConnects: CpuUsage;
  problems: string[];
}

/** Descriptors kept free besides the sockets: the process's own, Redis, HTTP, stdio, slack. */
const FD_MARGIN = 200;
const SETTLE_POLL_MS = 300;
const SETTLE_TOLERANCE_BYTES = 512 * 1024;
const SETTLE_MAX_MS = 10_000;

async function readMemory(gateway: GatewayEndpoint): Promise<MemoryReading> {
  const text = await scrapeMetrics(gateway.metricsUrl);
  return {
    rssProcBytes: gateway.pid === undefined ? undefined : processStatusBytes(gateway.pid, 'VmRSS'),
    rssMetricBytes: metricValue(text, 'process_resident_memory_bytes'),
    heapUsedBytes: metricValue(text, 'nodejs_heap_size_used_bytes'),
    externalBytes: metricValue(text, 'nodejs_external_memory_bytes'),
  };
}

/**
 * Reads the gateway's memory until two readings in a row agree (within 1% or 512 KB, RSS and heap
 * alike), at most 10 s; before each reading a full GC runs, when the gateway allows it.
 */
async function settledMemory(gateway: GatewayEndpoint, collectGarbage: (() => void) | undefined, signal: AbortSignal): Promise<MemoryReading> {
  const deadline = performance.now() + SETTLE_MAX_MS;
  const close = (before: number | undefined, now: number | undefined) =>
    before === undefined || now === undefined || Math.abs(now - before) <= Math.max(before * 0.01, SETTLE_TOLERANCE_BYTES);
  let previous: MemoryReading | undefined;
  for (;;) {
    collectGarbage?.();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    const current = await readMemory(gateway);
    if (
      previous !== undefined &&
      close(previous.rssProcBytes ?? previous.rssMetricBytes, current.rssProcBytes ?? current.rssMetricBytes) &&
      close(previous.heapUsedBytes, current.heapUsedBytes)
    ) {
      return current;
    }
    if (performance.now() >= deadline || signal.aborted) return current;
    previous = current;
  }
}

function perSocket(after: number | undefined, before: number | undefined, sockets: number): number | null {
  return after === undefined || before === undefined || sockets === 0 ? null : Math.round((after - before) / sockets);
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * N authenticated sockets that do nothing, on one gateway replica (a fresh process when this run
 * owns the stack): what each costs in memory, and how fast they connect.
 */
export async function runIdleSocketsWorkload(ctx: RunContext): Promise<IdleReport> {
  const { options, progress, target } = ctx;
  const limit = openFileLimit();
  // Both ends live on this machine: this process holds one descriptor per socket, and so does the
  // gateway, which (when started here) inherits this process's limit.
  const room = Math.floor(limit.soft - Math.max(limit.open, 50) - FD_MARGIN);
  const count = Math.max(0, Math.min(options.idleSockets, room));
  const limitedBy =
    count < options.idleSockets
      ? `ulimit -n is ${limit.soft} (hard ${limit.hard}) for this process${target.owned ? ' and the gateway it starts' : ''}: ` +
        `${options.idleSockets} sockets need about ${options.idleSockets + FD_MARGIN + limit.open} descriptors on each side; ` +
        `ran ${count}. Raise it (ulimit -n ${options.idleSockets * 2}) to run the full count.`
      : null;
  if (limitedBy) progress.log(`idle: ${limitedBy}`);

  const extra = target.startExtraGateway ? await target.startExtraGateway('gateway-idle') : undefined;
  const gateway: GatewayEndpoint = extra ?? (target.gateways[0] as GatewayEndpoint);
  const problems: string[] = [];
  let sockets: ThreadedSockets | undefined;
  try {
    progress.log(`idle: registering ${count} users`);
    const users = await ctx.users.take(count, (done, total) => progress.update(`idle: registered ${done}/${total}`));
    const before = await settledMemory(gateway, extra?.collectGarbage, ctx.signal);
    progress.log(`idle: connecting ${count} sockets to ${gateway.wsUrl} (${options.connectConcurrency} at a time, from several threads)`);
    const sourcePorts = sourcePortsFor(gateway.wsUrl);
    const cpuBefore = ctx.cpu.snapshot();
    sockets = await connectFromThreads(
      gateway.wsUrl,
      users.map((user) => user.token),
      options.connectConcurrency,
      sourcePorts.ports,
    );
    const cpuAfter = ctx.cpu.snapshot();
    problems.push(...sockets.problems);
    if (sockets.opened < users.length) problems.push(`${users.length - sockets.opened} sockets did not become ready`);
    const opened = sockets.opened;
    const after = await settledMemory(gateway, extra?.collectGarbage, ctx.signal);
    const report: IdleReport = {
      requestedSockets: options.idleSockets,
      sockets: opened,
      limitedBy,
      openFileLimit: { soft: finiteOrNull(limit.soft), hard: finiteOrNull(limit.hard) },
      gateway: { url: gateway.wsUrl, pid: gateway.pid ?? null, fresh: extra !== undefined },
      garbageCollected: extra !== undefined,
      connectsPerSecond: Math.round(opened / sockets.seconds),
      connectSeconds: Math.round(sockets.seconds * 100) / 100,
      connectConcurrency: options.connectConcurrency,
      sourcePorts: sourcePorts.description,
      before,
      after,
      perSocket: {
        rssBytes: perSocket(after.rssProcBytes ?? after.rssMetricBytes, before.rssProcBytes ?? before.rssMetricBytes, opened),
        heapBytes: perSocket(after.heapUsedBytes, before.heapUsedBytes, opened),
        externalBytes: perSocket(after.externalBytes, before.externalBytes, opened),
      },
      cpuDuringConnects: CpuSampler.usage(cpuBefore, cpuAfter),
      problems,
    };
    progress.log(
      `  idle: ${report.sockets} sockets, ${report.connectsPerSecond} connects/s, ` +
        `${report.perSocket.rssBytes ?? '?'} B RSS and ${report.perSocket.heapBytes ?? '?'} B heap per socket`,
    );
    return report;
  } finally {
    progress.log(`idle: closing ${sockets?.opened ?? 0} sockets`);
    await sockets?.close();
    await extra?.stop();
  }
}
