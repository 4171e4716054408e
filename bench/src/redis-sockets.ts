import { execFile } from 'node:child_process';
import type { WatchedProcess } from './process-cpu.js';

/**
 * Each process's traffic with Redis, from the kernel's TCP counters of its connections to the
 * Redis port (`ss -tinp`, iproute2). INFO commandstats only counts for all clients together; this
 * splits the round trips by service. A pipeline or auto-pipelined batch leaves in one write, and
 * on loopback (no Nagle in ioredis, MSS ~32-64 KB) one write is one data segment, so segments sent
 * ≈ requests; segments received ≈ replies, plus every pub/sub message for a subscriber.
 */
export interface SocketCounters {
  segmentsOut: number;
  segmentsIn: number;
  bytesOut: number;
  bytesIn: number;
}

/** Per watched process name; processes without a connection to Redis are left out. */
export type RedisSocketSnapshot = Map<string, SocketCounters>;

const SS_TIMEOUT_MS = 5000;

function counter(line: string, name: string): number {
  const match = new RegExp(`\\b${name}:(\\d+)`).exec(line);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

/** Parses `ss -tinpH` output: a header line per socket (with users:((…pid=N…))), then its info line. */
function parseSs(output: string): Map<number, SocketCounters> {
  const byPid = new Map<number, SocketCounters>();
  let pid: number | undefined;
  for (const line of output.split('\n')) {
    if (!/^\s/.test(line)) {
      const match = /pid=(\d+)/.exec(line);
      pid = match?.[1] === undefined ? undefined : Number(match[1]);
      continue;
    }
    if (pid === undefined) continue;
    const totals = byPid.get(pid) ?? { segmentsOut: 0, segmentsIn: 0, bytesOut: 0, bytesIn: 0 };
    totals.segmentsOut += counter(line, 'data_segs_out');
    totals.segmentsIn += counter(line, 'data_segs_in');
    totals.bytesOut += counter(line, 'bytes_acked') || counter(line, 'bytes_sent');
    totals.bytesIn += counter(line, 'bytes_received');
    byPid.set(pid, totals);
    pid = undefined;
  }
  return byPid;
}

function runSs(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('ss', ['-tinpH', 'state', 'established', `( dport = :${port} )`], { timeout: SS_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) =>
      resolve(error ? undefined : stdout),
    );
  });
}

export class RedisSockets {
  constructor(
    private readonly redisPort: number,
    private readonly processes: () => WatchedProcess[],
  ) {}

  /** undefined when `ss` is missing or fails (the report then leaves the split out). */
  async snapshot(): Promise<RedisSocketSnapshot | undefined> {
    const output = await runSs(this.redisPort);
    if (output === undefined) return undefined;
    const byPid = parseSs(output);
    const snapshot: RedisSocketSnapshot = new Map();
    for (const { name, pid } of this.processes()) {
      const counters = pid === undefined ? undefined : byPid.get(pid);
      if (counters) snapshot.set(name, counters);
    }
    return snapshot;
  }
}

export interface RedisTrafficPerMessage {
  /** Data segments sent to Redis ÷ messages: requests (round trips). */
  requests: number;
  /** Data segments received from Redis ÷ messages: replies, and pub/sub pushes for subscribers. */
  received: number;
  bytesOut: number;
  bytesIn: number;
}

/** Per process: the deltas between two snapshots ÷ messages (processes in both only). */
export function trafficPerMessage(
  before: RedisSocketSnapshot,
  after: RedisSocketSnapshot,
  messages: number,
): Record<string, RedisTrafficPerMessage> {
  const divisor = Math.max(messages, 1);
  const per = (value: number) => Math.round((value / divisor) * 100) / 100;
  const result: Record<string, RedisTrafficPerMessage> = {};
  for (const [name, end] of after) {
    const start = before.get(name);
    if (!start) continue;
    result[name] = {
      requests: per(Math.max(0, end.segmentsOut - start.segmentsOut)),
      received: per(Math.max(0, end.segmentsIn - start.segmentsIn)),
      bytesOut: Math.round(Math.max(0, end.bytesOut - start.bytesOut) / divisor),
      bytesIn: Math.round(Math.max(0, end.bytesIn - start.bytesIn) / divisor),
    };
  }
  return result;
}
