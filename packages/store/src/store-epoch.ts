import { randomBytes } from 'node:crypto';
import { Cluster, ReplyError } from 'ioredis';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis, isRedisUnavailable } from './redis-failure.js';
import { STORE_SCRIPTS } from './store-scripts.js';

function field(info: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
}

/**
 * Whether this Redis fsyncs every write. False when Redis itself refuses to say (CONFIG renamed
 * away or not permitted). A command that never reached Redis throws instead: read as "not
 * durable", it would start a new epoch on a Redis that lost nothing. That happened on reconnects:
 * while a connection completes its handshake ioredis sends INFO (Redis allows it while loading)
 * but refuses CONFIG, and the script that follows could already go out on the ready connection.
 */
async function fsyncsEveryWrite(redis: Redis): Promise<boolean> {
  let reply: unknown;
  try {
    reply = await redis.config('GET', 'append*');
  } catch (error) {
    // A transient refusal (LOADING, BUSY…) is "unavailable" too: the script could succeed a moment later.
    if (error instanceof ReplyError && !isRedisUnavailable(error)) return false;
    throw error;
  }
  const settings = new Map<string, string>();
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) settings.set(String(reply[i]), String(reply[i + 1]));
  return settings.get('appendonly') === 'yes' && settings.get('appendfsync') === 'always';
}

async function runIdOf(redis: Redis): Promise<string> {
  return field(await redis.info('server'), 'run_id') ?? 'unknown';
}

async function serverIdentity(redis: Redis): Promise<{ runId: string; durable: boolean }> {
  return { runId: await runIdOf(redis), durable: await fsyncsEveryWrite(redis) };
}

/**
 * On a cluster history lives on every master: the run_ids of them all, so that any master that
 * restarted or was replaced by its replica starts a new epoch. Never durable: a replica promoted
 * in a failover may lack the last writes its master acknowledged (replication is asynchronous),
 * whatever each node fsyncs.
 */
async function clusterIdentity(cluster: Cluster): Promise<{ runId: string; durable: boolean }> {
  const runIds = await Promise.all(cluster.nodes('master').map(runIdOf));
  return { runId: runIds.sort().join(','), durable: false };
}

/**
 * The store's epoch names one unbroken history. It changes when history may have gone backwards:
 * the epoch key is gone (Redis lost everything), or Redis restarted (a new run_id) while it does
 * not fsync every write, so the last second of accepted messages may be gone and their seqs may
 * be handed out again. Clients keep the epoch with their cursors; a resume under another epoch
 * is answered with `recovered: false` instead of silently skipping.
 *
 * Reads (and when needed, starts) the current epoch (lua/observe-epoch-1.lua). Call on every
 * (re)connection.
 */
export async function observeStoreEpoch(redis: Redis, keys: Keys): Promise<string> {
  const { runId, durable } = await guardRedis(redis instanceof Cluster ? clusterIdentity(redis) : serverIdentity(redis));
  const id = await guardRedis(
    STORE_SCRIPTS.observeEpoch.run(redis, [keys.epoch()], [runId, durable ? '1' : '0', randomBytes(8).toString('base64url')]),
  );
  return String(id);
}
