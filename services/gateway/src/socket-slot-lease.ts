import type { Logger } from '@chat/logger';
import type { SocketSlot, UserSocketSlots } from '@chat/store';
import type { ClientConnection } from './client-connection.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { PresenceTracker } from './presence-tracker.js';

/**
 * This replica's leases on its sockets' slots among each user's sockets on every replica, which
 * are also what presence is made of. A lease lives `ttlMs` and is renewed every third of that, so
 * a replica that dies leaves leases that lapse within `ttlMs`, and its users are swept offline
 * soon after (the presence bound: ttl + the sweep interval).
 */
export function createSocketSlotLease(slots: UserSocketSlots, ttlMs: number, presence: PresenceTracker, logger: Logger) {
  function refresh(clients: Iterable<ClientConnection>): void {
    slots
      .refresh([...clients].map((client) => ({ username: client.username, socketId: client.socketId })), ttlMs)
      .catch((error: unknown) => logger.warn({ err: error }, 'socket slots not refreshed'));
  }
  const releasing = new Set<Promise<void>>();
  return {
    /** False when the user already holds `limit` sockets. */
    async claim(slot: SocketSlot, limit: number): Promise<boolean> {
      const outcome = await slots.claim(slot, limit, ttlMs);
      if (outcome === 'refused') return false;
      presence.claimed(slot.username, outcome === 'came-online');
      return true;
    },
    release(slot: SocketSlot): void {
      const released = slots.release(slot).then(
        (left) => {
          if (left === 0) presence.lastSocketGone(slot.username);
        },
        (error: unknown) => {
          logger.debug({ err: error }, 'socket slot not released; it will lapse');
          presence.lastSocketGone(slot.username);
        },
      );
      releasing.add(released);
      void released.finally(() => releasing.delete(released));
    },
    /** Resolves once every release started so far has been answered (shutdown: before presence.flush). */
    async released(): Promise<void> {
      await Promise.all(releasing);
    },
    refresh,
    /** Renews the lease of every socket open here, every third of the ttl. */
    startRenewing(connections: ConnectionRegistry): { stop(): void } {
      const timer = setInterval(() => refresh(connections.all()), Math.max(1, Math.floor(ttlMs / 3)));
      timer.unref();
      return { stop: () => clearInterval(timer) };
    },
  };
}

export type SocketSlotLease = ReturnType<typeof createSocketSlotLease>;
