import { Cluster, Redis as SingleRedis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { defineStoreScripts } from './store-scripts.js';

/**
 * A connection to the system's Redis: one server, or a Redis Cluster (REDIS_CLUSTER_NODES). Both
 * take the same commands; the keys (keys.ts) make every multi-key command, MULTI and script touch
 * one hash slot, so the stores use either without knowing which.
 */
export type Redis = SingleRedis | Cluster;

/** A seed node of a Redis Cluster. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

export type RedisRole =
  /**
   * Request/response commands: fail fast while Redis is away so callers can answer 503.
   * Auto-pipelined on one Redis (not on a cluster: see clusterOptions).
   */
  | 'command'
  /**
   * BullMQ producer (Queue.add): fails fast like 'command', but without auto-pipelining. BullMQ
   * defines its ~50 scripts on the connection it is given, and ioredis copies every defined script
   * onto each auto-pipeline it creates: on a shared connection that copying cost ~10% of the api's CPU.
   */
  | 'producer'
  /**
   * Pub/sub subscriber: resubscribes on reconnect (ioredis does that itself), and skips the ready
   * check. ioredis 5 writes a SUBSCRIBE issued during the handshake at once (Redis allows it while
   * loading); when its reply lands before the check's INFO goes out, ioredis refuses the INFO on a
   * subscribed connection and drops it, losing the subscription (ioredis#2037). The check only
   * waits for Redis to finish loading its data, which pub/sub does not need.
   */
  | 'subscriber'
  /** BullMQ's connections: blocking commands, must never give up on a request. */
  | 'queue';

export interface RedisConnectionSettings {
  /** The Redis; with clusterNodes, only its credentials and TLS (rediss:) are used, for every node. */
  url: string;
  /** Seed nodes: connect to a Redis Cluster instead (ioredis Cluster, same role semantics). */
  clusterNodes?: readonly RedisNodeAddress[] | undefined;
  /** Shown in CLIENT LIST, so `redis-cli client list` says who is who. */
  name: string;
  role: RedisRole;
  /** Milliseconds a command may take before it fails (command role). */
  commandTimeoutMs?: number;
}

function retryStrategy(attempt: number): number {
  // Back off to at most one second so a restarted Redis is found again quickly.
  return Math.min(50 * 2 ** Math.min(attempt, 5), 1000);
}

export function redisOptions(settings: RedisConnectionSettings): RedisOptions {
  const base: RedisOptions = {
    connectionName: settings.name,
    retryStrategy,
    lazyConnect: false,
  };
  // What a caller that answers an HTTP request needs: fail fast while Redis is away.
  const failFast: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: settings.commandTimeoutMs ?? 2000,
  };
  switch (settings.role) {
    case 'command':
      return { ...base, ...failFast, enableAutoPipelining: true };
    case 'producer':
      return { ...base, ...failFast };
    case 'subscriber':
      return { ...base, maxRetriesPerRequest: null, enableOfflineQueue: true, enableReadyCheck: false };
    case 'queue':
      return { ...base, maxRetriesPerRequest: null, enableOfflineQueue: true };
  }
}

/** The credentials and TLS a URL carries, for each node of a cluster. */
function nodeOptionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * The same roles on a cluster. Each node's connection gets the role's options; the Cluster itself
 * queues (or refuses) commands while it has no slot map as the role does while disconnected, and
 * follows MOVED/ASK and failovers by itself. The subscriber keeps one connection per shard for
 * SSUBSCRIBE (shardedSubscribers), re-subscribing after a failover.
 */
export function clusterOptions(settings: RedisConnectionSettings): ClusterOptions {
  const { retryStrategy: _perNode, enableAutoPipelining: _notOnCluster, enableOfflineQueue, ...node } = redisOptions(settings);
  return {
    redisOptions: { ...node, ...nodeOptionsFromUrl(settings.url) },
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue: enableOfflineQueue ?? true,
    // Not on a cluster: an auto-pipeline groups commands by node, and when a slot moves (MOVED)
    // ioredis replays the whole pipeline and refuses it as soon as its commands map to two nodes
    // ("All keys in the pipeline should belong to the same slots allocation group", ioredis#2075):
    // every command of the pipeline then fails, the moved slot's until the slot map is refreshed.
    // Found by test/faults/cluster-faults.test.ts (a slot moved under traffic).
    enableAutoPipelining: false,
    // The subscriber also reads the slot map every few seconds: a shard that gives a slot away
    // drops that slot's subscriptions, and ioredis subscribes them again only on a refresh.
    ...(settings.role === 'subscriber' ? { shardedSubscribers: true, enableReadyCheck: false, slotsRefreshInterval: 5000 } : {}),
    // A failover takes a couple of cluster-node-timeouts: keep retrying a command that long.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    maxRedirections: 32,
  };
}

/** One Redis when no cluster nodes are given, which the type says (tests use SingleRedis's own methods). */
export function connectRedis(settings: RedisConnectionSettings & { clusterNodes?: undefined }): SingleRedis;
export function connectRedis(settings: RedisConnectionSettings): Redis;
export function connectRedis(settings: RedisConnectionSettings): Redis {
  const redis =
    settings.clusterNodes === undefined
      ? new SingleRedis(settings.url, redisOptions(settings))
      : new Cluster([...settings.clusterNodes], clusterOptions(settings));
  // Before its first command: it auto-pipelines (see defineStoreScripts).
  if (settings.role === 'command') defineStoreScripts(redis);
  return redis;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    function onReady() {
      clearTimeout(timer);
      resolve();
    }
    redis.once('ready', onReady);
  });
}

/** PING with a short timeout: the readiness probe. */
export async function redisAnswers(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timeout')), timeoutMs);
      }),
    ]);
    return pong === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
