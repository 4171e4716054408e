import { Redis } from 'ioredis';
import type { BenchTarget } from './bench-stack.js';
import { GENERATOR, processStatusBytes } from './process-cpu.js';
import { metricValue, scrapeMetrics } from './prometheus-scrape.js';

export interface ProcessMemory {
  /** Resident set size from /proc (null when the pid is unknown or gone). */
  rssBytes: number | null;
  /** nodejs_heap_size_used_bytes from its /metrics (null for Redis, or when the scrape failed). */
  heapUsedBytes: number | null;
}

export interface MemorySample {
  /** INFO memory used_memory. */
  redisUsedBytes: number | null;
  /** Keys under the services' BullMQ prefix (`<REDIS_PREFIX>:bull:`): jobs the queue retains. */
  bullmqKeys: number | null;
  /** Every key in the database (DBSIZE). */
  redisKeys: number | null;
  /** By process name (api, worker, gateway-N, redis, generator). */
  processes: Record<string, ProcessMemory>;
}

const SCAN_COUNT = 1000;

function usedMemory(info: string): number | null {
  const match = /^used_memory:(\d+)/m.exec(info);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/**
 * Reads what a long run can leak: Redis memory and keys, BullMQ's retained keys, and each
 * process's RSS and heap. One Redis connection of its own; close() when done.
 */
export class MemorySampler {
  private readonly redis: Redis | undefined;

  constructor(private readonly target: BenchTarget) {
    this.redis = target.redisUrl === undefined ? undefined : new Redis(target.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
  }

  private async countKeys(pattern: string): Promise<number> {
    const redis = this.redis as Redis;
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
    return count;
  }

  async sample(): Promise<MemorySample> {
    const processes: Record<string, ProcessMemory> = {};
    const heaps = await Promise.all(
      Object.entries(this.target.metricsUrls).map(async ([name, url]) => {
        const text = await scrapeMetrics(url).catch(() => undefined);
        return [name, text === undefined ? null : (metricValue(text, 'nodejs_heap_size_used_bytes') ?? null)] as const;
      }),
    );
    const heapOf = new Map(heaps);
    for (const { name, pid } of this.target.processes()) {
      processes[name] = { rssBytes: pid === undefined ? null : (processStatusBytes(pid, 'VmRSS') ?? null), heapUsedBytes: heapOf.get(name) ?? null };
    }
    const own = process.memoryUsage();
    processes[GENERATOR] = { rssBytes: own.rss, heapUsedBytes: own.heapUsed };

    if (this.redis === undefined) return { redisUsedBytes: null, bullmqKeys: null, redisKeys: null, processes };
    const prefix = this.target.redisPrefix;
    const [info, redisKeys, bullmqKeys] = await Promise.all([
      this.redis.info('memory'),
      this.redis.dbsize(),
      prefix === undefined ? Promise.resolve(null) : this.countKeys(`${prefix}:bull:*`),
    ]);
    return { redisUsedBytes: usedMemory(info), bullmqKeys, redisKeys, processes };
  }

  close(): void {
    this.redis?.disconnect();
  }
}
