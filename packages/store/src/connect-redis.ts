import { Redis, type RedisOptions } from 'ioredis';
import { defineStoreScripts } from './store-scripts.js';

export type { Redis } from 'ioredis';

export type RedisRole =
  /** Request/response commands: fail fast while Redis is away so callers can answer 503. */
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
  url: string;
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

export function connectRedis(settings: RedisConnectionSettings): Redis {
  const redis = new Redis(settings.url, redisOptions(settings));
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
