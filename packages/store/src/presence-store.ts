import { encodeUserFrame, type PresenceFrame, type PresenceItem } from '@chat/contracts';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { STORE_SCRIPTS } from './store-scripts.js';

/**
 * Presence, built on the socket slots (user-socket-slots.ts): a user is online from the socket that
 * finds them offline (claim-socket-slot-2.lua) until their presence is settled with no live socket
 * left on any gateway (settle-presence-2.lua): after the grace period that follows their last
 * close, or by the sweep once their last lease ran out. Every transition is announced once, to
 * every user who shares a conversation with them, on that user's own channel: whatever the number
 * of gateways, and once per co-member however many conversations they share.
 *
 * Commands here touch one user's keys, or one conversation's, each on its own (the command
 * connection pipelines them), so they run unchanged on Redis Cluster.
 */
export function createPresenceStore(redis: Redis, keys: Keys) {
  /** Everyone who shares a conversation with `username` (not themselves): 1 + conversations reads. */
  async function coMembers(username: string): Promise<Set<string>> {
    const ids = await guardRedis(redis.zrange(keys.userConversations(username), 0, -1));
    const lists = await guardRedis(Promise.all(ids.map((id) => redis.zrange(keys.members(id), 0, -1))));
    const users = new Set<string>();
    for (const members of lists) {
      // An index entry the user's membership no longer backs (a half-done change) shares nothing.
      if (!members.includes(username)) continue;
      for (const member of members) users.add(member);
    }
    users.delete(username);
    return users;
  }

  return {
    coMembers,

    /** Publishes `frame` to the sockets of everyone who shares a conversation with its user. Resolves to how many users. */
    async announce(frame: PresenceFrame): Promise<number> {
      const users = await coMembers(frame.user);
      const payload = encodeUserFrame(JSON.stringify(frame));
      await guardRedis(Promise.all([...users].map((user) => redis.call(keys.publishCommand, keys.userChannel(user), payload))));
      return users.size;
    },

    /**
     * Takes the user offline if they have no live socket left: the lastSeen (ms) to announce, or
     * undefined when they are still (or were never) online.
     */
    async settle(username: string, nowMs = Date.now()): Promise<number | undefined> {
      const [offline, lastSeen] = await guardRedis(
        STORE_SCRIPTS.settlePresence.run(redis, [keys.userSockets(username), keys.userPresence(username)], [nowMs]),
      );
      return offline === 1 ? lastSeen : undefined;
    },

    /** Those of `users` with a live socket on some gateway now (one command each, pipelined). */
    async withLiveSocket(users: readonly string[], nowMs = Date.now()): Promise<Set<string>> {
      const counts = await guardRedis(Promise.all(users.map((user) => redis.zcount(keys.userSockets(user), `(${nowMs}`, '+inf'))));
      return new Set(users.filter((_, index) => (counts[index] ?? 0) > 0));
    },

    /** Users whose last socket lease ran out by `nowMs`, oldest first: candidates for settle(). */
    lapsed(nowMs: number, limit: number): Promise<string[]> {
      return guardRedis(redis.zrangebyscore(keys.presenceExpiries(), '-inf', nowMs, 'LIMIT', 0, limit));
    },

    /** Drops settled users from the sweep's index, unless they connected again meanwhile. */
    async forgetLapsed(users: readonly string[], nowMs: number): Promise<void> {
      if (users.length === 0) return;
      await guardRedis(STORE_SCRIPTS.forgetLapsedPresence.run(redis, [keys.presenceExpiries()], [nowMs, ...users]));
    },

    /**
     * The presence of the listed users who share a conversation with `caller` (and the caller's
     * own, when listed), in the order given; anyone else is left out.
     */
    async read(caller: string, users: readonly string[]): Promise<PresenceItem[]> {
      const visible = await coMembers(caller);
      visible.add(caller);
      const listed = [...new Set(users)].filter((user) => visible.has(user));
      const states = await guardRedis(Promise.all(listed.map((user) => redis.hmget(keys.userPresence(user), 'online', 'lastSeen'))));
      const now = new Date().toISOString();
      return listed.map((user, index) => {
        const [online, lastSeen] = states[index] ?? [];
        if (online === '1') return { user, online: true, lastSeen: now };
        return { user, online: false, lastSeen: lastSeen ? new Date(Number(lastSeen)).toISOString() : null };
      });
    },
  };
}

export type PresenceStore = ReturnType<typeof createPresenceStore>;
