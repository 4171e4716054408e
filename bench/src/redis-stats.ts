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
  /** On a cluster: commands (as `commands`) by master, keyed by its host:port. */
  commandsByNode: Map<string, number>;
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
  /** On a cluster: commands per message on each master (host:port), and the busiest one ÷ their mean. */
  byMaster?: { commandsPerMessage: Record<string, number>; maxOverMean: number };
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

/** Each master's commands per message, and how far the busiest is above their mean (the bound: 1.5). */
function perMaster(before: RedisSnapshot, after: RedisSnapshot, divisor: number): NonNullable<RedisPerMessage['byMaster']> {
  const commandsPerMessage: Record<string, number> = {};
  const deltas = [...after.commandsByNode].map(([name, count]) => {
    const delta = count - (before.commandsByNode.get(name) ?? 0);
    commandsPerMessage[name] = round(delta / divisor);
    return delta;
  });
  const mean = deltas.reduce((sum, delta) => sum + delta, 0) / Math.max(deltas.length, 1);
  return { commandsPerMessage, maxOverMean: mean > 0 ? round(Math.max(...deltas) / mean) : 0 };
}

/**
 * INFO commandstats/stats before and after a step: Redis work per posted message. On a cluster,
 * of every master (given as `urls`), summed, and each master's share.
 */
export class RedisStats {
  private readonly nodes: { name: string; redis: Redis }[];

  constructor(
    urls: readonly string[],
    private readonly sockets?: RedisSockets,
  ) {
    this.nodes = urls.map((url) => {
      const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true, connectionName: 'bench-stats' });
      // snapshot() rejects with the error itself; this listener only keeps ioredis from reporting it twice.
      redis.on('error', () => undefined);
      return { name: new URL(url).host, redis };
    });
  }

  async snapshot(): Promise<RedisSnapshot> {
    const [perNode, sockets] = await Promise.all([
      Promise.all(this.nodes.map(async ({ name, redis }) => ({ name, commandstats: await redis.info('commandstats'), stats: await redis.info('stats') }))),
      this.sockets?.snapshot(),
    ]);
    const calls = new Map<string, number>();
    const commandsByNode = new Map<string, number>();
    let reads = 0;
    for (const { name, commandstats, stats } of perNode) {
      for (const [command, count] of parseCommandStats(commandstats)) calls.set(command, (calls.get(command) ?? 0) + count);
      reads += statField(stats, 'total_reads_processed');
      commandsByNode.set(name, statField(stats, 'total_commands_processed'));
    }
    const commands = [...commandsByNode.values()].reduce((sum, count) => sum + count, 0);
    return { calls, reads, commands, sockets, commandsByNode };
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
      ...(after.commandsByNode.size > 1 ? { byMaster: perMaster(before, after, divisor) } : {}),
    };
  }

  /** redis_version from INFO server, or null when it cannot be read. */
  async serverVersion(): Promise<string | null> {
    const first = this.nodes[0];
    if (!first) return null;
    const server = await first.redis.info('server');
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
    await Promise.all(this.nodes.map(({ redis }) => redis.quit().catch(() => redis.disconnect())));
  }
}
