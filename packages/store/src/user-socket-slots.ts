import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { STORE_SCRIPTS } from './store-scripts.js';

export interface SocketSlot {
  username: string;
  socketId: string;
}

/**
 * How many sockets a user holds on all gateways together, so a per-user limit holds across
 * replicas. Each socket is a member of the user's sorted set, scored by when it expires; gateways
 * refresh their live sockets at every heartbeat, so the entries of a gateway that died without
 * cleaning up lapse on their own (lua/claim-socket-slot-1.lua).
 */
export function createUserSocketSlots(redis: Redis, keys: Keys) {
  return {
    /** Takes a slot for a new socket; false when the user already has `limit` open. */
    async claim(slot: SocketSlot, limit: number, ttlMs: number): Promise<boolean> {
      const claimed = await guardRedis(
        STORE_SCRIPTS.claimSocketSlot.run(redis, [keys.userSockets(slot.username)], [slot.socketId, limit, Date.now(), ttlMs]),
      );
      return claimed === 1;
    },

    async release(slot: SocketSlot): Promise<void> {
      await guardRedis(redis.zrem(keys.userSockets(slot.username), slot.socketId));
    },

    /** Extends the slots of sockets still open here: one MULTI per socket (a user's slot), auto-pipelined together. */
    async refresh(slots: Iterable<SocketSlot>, ttlMs: number): Promise<void> {
      const expiresAt = Date.now() + ttlMs;
      const refreshed: Promise<unknown>[] = [];
      for (const slot of slots) {
        const key = keys.userSockets(slot.username);
        refreshed.push(guardRedis(redis.multi().zadd(key, 'XX', expiresAt, slot.socketId).pexpire(key, ttlMs).exec()));
      }
      await Promise.all(refreshed);
    },
  };
}

export type UserSocketSlots = ReturnType<typeof createUserSocketSlots>;
