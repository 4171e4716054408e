import type { Logger } from '@chat/logger';
import type { SocketSlot, UserSocketSlots } from '@chat/store';
import type { ConnectionRegistry } from './connection-registry.js';
import type { PresenceTracker } from './presence-tracker.js';

/**
 * This replica's leases on its sockets' slots among each user's sockets on every replica, which
 * are also what presence is made of. A lease lives `ttlMs` and is renewed every third of that, so
 * a replica that dies leaves leases that lapse within `ttlMs`, and its users are swept offline
 * soon after (the presence bound: ttl + the sweep interval).
 */
export function createSocketSlotLease(slots: UserSocketSlots, ttlMs: number, presence: PresenceTracker, logger: Logger) {
  async function refresh(connections: ConnectionRegistry): Promise<void> {
    const clients = [...connections.all()];
    const lapsed = await slots.refresh(
      clients.map((client) => ({ username: client.username, socketId: client.socketId })),
      ttlMs,
    );
    // Slots that had lapsed were taken again: marked online anew if the sweep took the user offline
    // meanwhile, and given back for the sockets that closed while the refresh was on its way.
    await Promise.all(
      lapsed.map(async (username) => {
        for (const client of clients.filter((candidate) => candidate.username === username)) {
          const slot = { username, socketId: client.socketId };
          if (!client.isOpen) {
            release(slot);
            continue;
          }
          const outcome = await slots.claim(slot, Number.MAX_SAFE_INTEGER, ttlMs);
          if (outcome === 'came-online') presence.claimed(username, true);
        }
      }),
    );
  }
  const releasing = new Set<Promise<void>>();
  function release(slot: SocketSlot): void {
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
  }
  return {
    /** False when the user already holds `limit` sockets. */
    async claim(slot: SocketSlot, limit: number): Promise<boolean> {
      const outcome = await slots.claim(slot, limit, ttlMs);
      if (outcome === 'refused') return false;
      presence.claimed(slot.username, outcome === 'came-online');
      return true;
    },
    release,
    /** Resolves once every release started so far has been answered (shutdown: before presence.flush). */
    async released(): Promise<void> {
      await Promise.all(releasing);
    },
    /** Renews the lease of every socket open here, every third of the ttl. */
    startRenewing(connections: ConnectionRegistry): { stop(): void } {
      // One renewal at a time: while Redis is slow they would only pile up.
      let renewing: Promise<void> | undefined;
      const renew = () => {
        renewing ??= refresh(connections)
          .catch((error: unknown) => logger.warn({ err: error }, 'socket slots not refreshed'))
          .finally(() => {
            renewing = undefined;
          });
      };
      const timer = setInterval(renew, Math.max(1, Math.floor(ttlMs / 3)));
      timer.unref();
      return { stop: () => clearInterval(timer) };
    },
  };
}

export type SocketSlotLease = ReturnType<typeof createSocketSlotLease>;
