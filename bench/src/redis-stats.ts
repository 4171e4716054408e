import { Redis } from 'ioredis';
import { trafficPerMessage, type RedisSocketSnapshot, type RedisSockets, type RedisTrafficPerMessage } from './redis-sockets.js';

export interface RedisSnapshot {
  /** calls per command (INFO commandstats), e.g. evalsha, publish, bzpopmin. */
  calls: Map<string, number>;
  /** Client socket reads (INFO stats total_reads_processed): close to the number of round trips. */
  reads: number;
  /** Every command, those run inside scripts included (INFO stats total_commands_processed). */
  commands: number;
  /** Each service's TCP counters with Redis, when they can be read. */
  sockets: RedisSocketSnapshot | undefined;
}

export interface RedisPerMessage {
  messages: number;
  /** Client socket reads ÷ messages: round trips, pipelined commands counting once. */
  readsPerMessage: number;
  /** Commands ÷ messages, including those a Lua script runs. */
  commandsPerMessage: number;
  /** Calls per message by command, largest first (our own INFO calls left out). */
  byCommand: Record<string, number>;
  /** The same grouped by what issues them. */
  byRole: Record<string, number>;
  /** Requests (round trips) and replies per message, by service; absent without `ss`. */
  byProcess?: Record<string, RedisTrafficPerMessage>;
}

/** Commands the generator itself sends to take the snapshots. */
const OWN_COMMANDS = new Set(['info', 'client|setname', 'client|setinfo', 'ping']);

/**
 * Who issues a command, from the services' code: the store's and BullMQ's Lua scripts
 * (api: append + job add; worker: fetch, finish, publish script), pub/sub (gateways), BullMQ's
 * blocking wait (worker) and plain reads (gateway history, worker reads).
 */
function roleOf(command: string): string {
  if (['evalsha', 'eval', 'fcall', 'evalsha_ro', 'eval_ro'].includes(command)) return 'script calls (round trips)';
  if (['publish', 'spublish'].includes(command)) return 'publish (inside scripts or direct)';
  if (['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe'].includes(command)) return 'subscribe/unsubscribe (gateways)';
  if (['bzpopmin', 'bzpopmax', 'blpop', 'brpop', 'blmove', 'brpoplpush', 'xread', 'xreadgroup'].includes(command)) return 'blocking waits (BullMQ worker)';
  return 'other commands (plain or inside scripts)';
}

function parseCommandStats(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) calls.set(match[1], Number(match[2]));
  }
  return calls;
}

function statField(text: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** INFO commandstats/stats before and after a step: Redis work per posted message. */
export class RedisStats {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly sockets?: RedisSockets,
  ) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true, connectionName: 'bench-stats' });
    // snapshot() rejects with the error itself; this listener only keeps ioredis from reporting it twice.
    this.redis.on('error', () => undefined);
  }

  async snapshot(): Promise<RedisSnapshot> {
    const [commandstats, stats, sockets] = await Promise.all([this.redis.info('commandstats'), this.redis.info('stats'), this.sockets?.snapshot()]);
    return {
      calls: parseCommandStats(commandstats),
      reads: statField(stats, 'total_reads_processed'),
      commands: statField(stats, 'total_commands_processed'),
      sockets,
    };
  }

  static perMessage(before: RedisSnapshot, after: RedisSnapshot, messages: number): RedisPerMessage {
    const divisor = Math.max(messages, 1);
    const byCommand: Record<string, number> = {};
    const byRole: Record<string, number> = {};
    const deltas = [...after.calls]
      .filter(([command]) => !OWN_COMMANDS.has(command))
      .map(([command, calls]) => [command, calls - (before.calls.get(command) ?? 0)] as const)
      .filter(([, delta]) => delta > 0)
      .sort((a, b) => b[1] - a[1]);
    for (const [command, delta] of deltas) {
      byCommand[command] = round(delta / divisor);
      const role = roleOf(command);
      byRole[role] = round((byRole[role] ?? 0) + delta / divisor);
    }
    return {
      messages,
      readsPerMessage: round((after.reads - before.reads) / divisor),
      commandsPerMessage: round((after.commands - before.commands) / divisor),
      byCommand,
      byRole,
      ...(before.sockets && after.sockets ? { byProcess: trafficPerMessage(before.sockets, after.sockets, messages) } : {}),
    };
  }

  /** redis_version from INFO server, or null when it cannot be read. */
  async serverVersion(): Promise<string | null> {
    const server = await this.redis.info('server');
    return /^redis_version:(\S+)/m.exec(server)?.[1] ?? null;
  }

  /**
   * Resolves once Redis has gone (nearly) quiet: fewer than `idleCommands` commands in a
   * `pollMs` window, i.e. the worker has worked off its backlog. At most `maxMs`.
   */
  async waitForQuiet(idleCommands: number, pollMs: number, maxMs: number, signal: AbortSignal): Promise<void> {
    const deadline = performance.now() + maxMs;
    let previous = (await this.snapshot()).commands;
    while (performance.now() < deadline && !signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      const current = (await this.snapshot()).commands;
      if (current - previous < idleCommands) return;
      previous = current;
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
