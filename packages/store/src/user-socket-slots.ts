import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { pipelineValues } from './pipeline-results.js';
import { guardRedis } from './redis-failure.js';
import { STORE_SCRIPTS } from './store-scripts.js';

export interface SocketSlot {
  username: string;
  socketId: string;
}

/**
 * Users per ZADD to the presence index in a refresh: one command for all a replica's users, in
 * pieces of this many, so a replica holding tens of thousands does not build one giant command.
 */
const INDEX_MEMBERS_PER_ZADD = 1000;

/** What claiming a slot did. */
export type SlotClaim = 'refused' | 'claimed' | 'came-online';

/**
 * How many sockets a user holds on all gateways together, so a per-user limit holds across
 * replicas, and so whether they are online (presence-store.ts). Each socket is a member of the
 * user's sorted set, scored by when it expires; gateways refresh their live sockets regularly, so
 * the entries of a gateway that died without cleaning up lapse on their own
 * (lua/claim-socket-slot-2.lua), and the presence sweep finds their users through
 * presenceExpiries, where each user is scored by their latest lease.
 */
export function createUserSocketSlots(redis: Redis, keys: Keys) {
  return {
    /** Takes a slot for a new socket: 'refused' when the user already has `limit` open. */
    async claim(slot: SocketSlot, limit: number, ttlMs: number): Promise<SlotClaim> {
      const now = Date.now();
      // Indexed before the slot is taken (both go out in one round trip on the auto-pipelined
      // connection): a crash between leaves an index entry the sweep drops, never a slot it cannot find.
      const indexed = redis.zadd(keys.presenceExpiries(), 'GT', now + ttlMs, slot.username);
      const claimed = STORE_SCRIPTS.claimSocketSlot.run(
        redis,
        [keys.userSockets(slot.username), keys.userPresence(slot.username)],
        [slot.socketId, limit, now, ttlMs],
      );
      const [, outcome] = await guardRedis(Promise.all([indexed, claimed]));
      return outcome === 0 ? 'refused' : outcome === 2 ? 'came-online' : 'claimed';
    },

    /** Gives the slot back; resolves to the user's live sockets left on every gateway. */
    async release(slot: SocketSlot): Promise<number> {
      return guardRedis(
        STORE_SCRIPTS.releaseSocketSlot.run(redis, [keys.userSockets(slot.username), keys.userPresence(slot.username)], [slot.socketId, Date.now()]),
      );
    },

    /**
     * Extends the slots of sockets still open here: per user a ZADD and PEXPIRE pipelined in the
     * user's slot, and one ZADD of all the users to the presence sweep's index (its own key, so its
     * own slot; in pieces of INDEX_MEMBERS_PER_ZADD), auto-pipelined together. Resolves to the
     * users some of whose slots had lapsed and were taken again (Redis was out of reach for longer
     * than the ttl, and the sweep may have taken them offline): the caller re-claims them, or
     * releases what closed meanwhile.
     */
    async refresh(slots: Iterable<SocketSlot>, ttlMs: number): Promise<string[]> {
      const expiresAt = Date.now() + ttlMs;
      const byUser = new Map<string, (string | number)[]>();
      for (const slot of slots) {
        let pairs = byUser.get(slot.username);
        if (!pairs) byUser.set(slot.username, (pairs = []));
        pairs.push(expiresAt, slot.socketId);
      }
      if (byUser.size === 0) return [];
      const users = [...byUser.keys()];
      // Sent before the slots, as in claim(): a failure between leaves an index entry ahead of a
      // lease, never a renewed lease the sweep cannot find.
      const indexed: Promise<unknown>[] = [];
      for (let i = 0; i < users.length; i += INDEX_MEMBERS_PER_ZADD) {
        const scored = users.slice(i, i + INDEX_MEMBERS_PER_ZADD).flatMap((username) => [expiresAt, username]);
        indexed.push(guardRedis(redis.zadd(keys.presenceExpiries(), 'GT', ...scored)));
      }
      const renewed = [...byUser].map(async ([username, pairs]) => {
        const key = keys.userSockets(username);
        // A pipeline, not a MULTI: nothing reads the pair as one, and another command between them
        // finds a lease renewed a little early or a key a release already deleted. That saves
        // MULTI and EXEC, two of every renewal's four commands, for each user every third of the ttl.
        const replies = await guardRedis(redis.pipeline().zadd(key, ...pairs).pexpire(key, ttlMs).exec());
        // ZADD counts the slots that were not there: lapsed and taken again.
        return Number(pipelineValues(replies)[0]) > 0;
      });
      const [, added] = await Promise.all([Promise.all(indexed), Promise.all(renewed)]);
      return users.filter((_, index) => added[index]);
    },
  };
}

export type UserSocketSlots = ReturnType<typeof createUserSocketSlots>;
