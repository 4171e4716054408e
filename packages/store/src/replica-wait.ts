import { UnavailableError } from '@chat/contracts';
import { Cluster } from 'ioredis';
import type { Redis } from './connect-redis.js';
import { clusterSlot } from './keys.js';
import { guardRedis } from './redis-failure.js';

/** A write was stored but not confirmed by as many replicas as REDIS_WAIT_REPLICAS asks. */
export class ReplicasNotConfirmedError extends UnavailableError {}

/**
 * The connection that serves `key`'s slot now: WAIT has no key, and ioredis Cluster sends a
 * keyless command to any node, while WAIT only counts what *that* connection wrote. The Cluster
 * keeps one connection per node and sends every command for a slot on it, so WAIT there follows
 * the write that was just answered.
 */
function connectionServing(redis: Redis, key: string): Redis {
  if (!(redis instanceof Cluster)) return redis;
  const master = redis.slots[clusterSlot(key)]?.[0];
  const node = master === undefined ? undefined : redis.nodes('master').find((candidate) => `${candidate.options.host}:${candidate.options.port}` === master);
  if (!node) throw new UnavailableError('storage is unavailable, try again shortly');
  return node;
}

/**
 * Resolves once `replicas` replicas of the node that holds `key` have every write this process
 * sent it so far (Redis WAIT), or throws ReplicasNotConfirmedError after `timeoutMs`. Redis
 * replication is asynchronous: without this a failover can lose a write that was acknowledged.
 */
export async function waitForReplicas(redis: Redis, key: string, replicas: number, timeoutMs: number): Promise<void> {
  if (replicas <= 0) return;
  const confirmed = await guardRedis(connectionServing(redis, key).wait(replicas, timeoutMs));
  if (confirmed < replicas) {
    throw new ReplicasNotConfirmedError(`stored, but confirmed by ${confirmed} of ${replicas} replicas; try again shortly`);
  }
}
