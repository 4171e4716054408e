import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';

/**
 * The delivery backlog: messages accepted but not yet published by a worker. Every accepted
 * message has an outbox entry until its frame is published, so the outbox's size is the backlog.
 * One read, outside the hot path (the api samples it on a timer, see backlog-guard.ts).
 */
export function createDeliveryBacklog(redis: Redis, keys: Keys) {
  return {
    async size(): Promise<number> {
      return guardRedis(redis.zcard(keys.outbox()));
    },
  };
}

export type DeliveryBacklog = ReturnType<typeof createDeliveryBacklog>;
