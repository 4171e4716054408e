import { createHash, randomBytes } from 'node:crypto';
import { Cluster, ReplyError } from 'ioredis';
import type { Redis } from './connect-redis.js';
import { clusterSlot, type Keys } from './keys.js';
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
  if (redis instanceof Cluster) return guardRedis(observeClusterEpoch(redis, keys));
  const { runId, durable } = await guardRedis(serverIdentity(redis));
  const id = await guardRedis(
    STORE_SCRIPTS.observeEpoch.run(redis, [keys.epoch(0)], [runId, durable ? '1' : '0', randomBytes(8).toString('base64url')]),
  );
  return String(id);
}

/** Separates the partitions' epochs in what the epoch index holds. */
const PARTITION_SEPARATOR = '.';

/**
 * On a cluster each delivery partition has an epoch of its own, in its slot, seen with the run_id
 * of the master serving that slot: a master that restarted or was replaced by its replica (which
 * may lack the last writes it acknowledged: replication is asynchronous, so never "durable")
 * starts new epochs for its partitions only. A slot that moved to another master with its keys
 * (resharding) keeps its epoch: the master it was seen with still runs, as a master.
 * Clients get one short id for the set (the epoch index maps it back to the partitions' epochs),
 * so the frames stay as they are; epochHistoryKept compares them partition by partition.
 */
async function observeClusterEpoch(cluster: Cluster, keys: Keys): Promise<string> {
  const masters = cluster.nodes('master');
  const runIds = new Map<string, string>(await Promise.all(masters.map(async (node) => [`${node.options.host}:${node.options.port}`, await runIdOf(node)] as const)));
  const alive = [...runIds.values()];
  const ids = await Promise.all(
    Array.from({ length: keys.partitions }, async (_, partition) => {
      const key = keys.epoch(partition);
      const serving = cluster.slots[clusterSlot(key)]?.[0];
      const runId = (serving === undefined ? undefined : runIds.get(serving)) ?? 'unknown';
      return String(await STORE_SCRIPTS.observeEpoch.run(cluster, [key], [runId, '0', randomBytes(6).toString('base64url'), ...alive]));
    }),
  );
  const partitionEpochs = ids.join(PARTITION_SEPARATOR);
  const id = createHash('sha256').update(partitionEpochs).digest('base64url').slice(0, 16);
  await cluster.hsetnx(keys.epochIndex(), id, partitionEpochs);
  return id;
}

/**
 * Which conversations a client that saw `clientEpoch` can resume now, under `currentEpoch`: on
 * one Redis, all or none; on a cluster, those whose partition's epoch is the same in both (all
 * when the client's epoch is not known).
 */
export async function epochHistoryKept(
  redis: Redis,
  keys: Keys,
  clientEpoch: string,
  currentEpoch: string,
): Promise<(conversationId: string) => boolean> {
  if (clientEpoch === currentEpoch) return () => true;
  if (!keys.clustered) return () => false;
  const [then, now] = await guardRedis(redis.hmget(keys.epochIndex(), clientEpoch, currentEpoch));
  if (!then || !now) return () => false;
  const [before, after] = [then.split(PARTITION_SEPARATOR), now.split(PARTITION_SEPARATOR)];
  if (before.length !== keys.partitions || after.length !== keys.partitions) return () => false;
  return (conversationId) => {
    const partition = keys.partitionOf(conversationId);
    return before[partition] === after[partition];
  };
}
