import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { luaScript, runScript } from './run-script.js';

/**
 * How many sockets a user holds on all gateways together, so a per-user limit holds across
 * replicas. Each socket is a member of the user's sorted set, scored by when it expires; gateways
 * refresh their live sockets at every heartbeat, so the entries of a gateway that died without
 * cleaning up lapse on their own.
 *
 * KEYS[1] the user's set; ARGV: socket id, limit, now (ms), ttl (ms). Returns 1 if claimed.
 */
const CLAIM = luaScript(`
local key, id, limit, now, ttl = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now + ttl, id)
redis.call('PEXPIRE', key, ttl)
return 1
`);

export interface SocketSlot {
  username: string;
  socketId: string;
}

export function createUserSocketSlots(redis: Redis, keys: Keys) {
  return {
    /** Takes a slot for a new socket; false when the user already has `limit` open. */
    async claim(slot: SocketSlot, limit: number, ttlMs: number): Promise<boolean> {
      const claimed = await guardRedis(runScript(redis, CLAIM, [keys.userSockets(slot.username)], [slot.socketId, limit, Date.now(), ttlMs]));
      return claimed === 1;
    },

    async release(slot: SocketSlot): Promise<void> {
      await guardRedis(redis.zrem(keys.userSockets(slot.username), slot.socketId));
    },

    /** Extends the slots of sockets still open here, in one pipeline. */
    async refresh(slots: Iterable<SocketSlot>, ttlMs: number): Promise<void> {
      const expiresAt = Date.now() + ttlMs;
      const pipeline = redis.pipeline();
      let count = 0;
      for (const slot of slots) {
        pipeline.zadd(keys.userSockets(slot.username), 'XX', expiresAt, slot.socketId).pexpire(keys.userSockets(slot.username), ttlMs);
        count += 1;
      }
      if (count > 0) await guardRedis(pipeline.exec());
    },
  };
}

export type UserSocketSlots = ReturnType<typeof createUserSocketSlots>;
