import type { PresenceFrame } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { PresenceStore } from '@chat/store';
import type { PresenceMetrics } from './presence-metrics.js';

export interface PresenceTrackerDeps {
  presence: PresenceStore;
  /** How long after a user's last socket on every replica closes they are announced offline. */
  graceMs: number;
  metrics: PresenceMetrics;
  logger: Logger;
}

/**
 * This replica's part of presence. A socket whose claim found its user offline announces them
 * online; the close of a user's last socket on every replica settles their presence after the
 * grace period (a reconnect meanwhile, here or elsewhere, keeps them online, and the settling is
 * atomic in Redis, so of several replicas only one announces). A replica that dies leaves that
 * to the sweep (the worker's presence-sweeper.ts), once its leases run out.
 *
 * Announcing reads the user's conversations and publishes once per co-member: work per transition,
 * not per socket, and none of it delays the socket.
 */
export function createPresenceTracker({ presence, graceMs, metrics, logger }: PresenceTrackerDeps) {
  const pending = new Map<string, NodeJS.Timeout>();

  function announce(frame: PresenceFrame): void {
    metrics.transitions.inc({ online: String(frame.online) });
    presence.announce(frame).then(
      (users) => metrics.announced.inc(users),
      (error: unknown) => logger.warn({ err: error, user: frame.user, online: frame.online }, 'presence not announced'),
    );
  }

  async function settle(username: string): Promise<void> {
    pending.delete(username);
    try {
      const lastSeen = await presence.settle(username);
      if (lastSeen !== undefined) announce({ type: 'presence', user: username, online: false, lastSeen: new Date(lastSeen).toISOString() });
    } catch (error) {
      // The sweep settles them once their leases (already released or lapsing) are past.
      logger.warn({ err: error, user: username }, 'presence not settled; the sweep will');
    }
  }

  return {
    /** A socket of `username` took its slot; `cameOnline` when they were offline until now. */
    claimed(username: string, cameOnline: boolean): void {
      const timer = pending.get(username);
      if (timer) {
        clearTimeout(timer);
        pending.delete(username);
      }
      if (cameOnline) announce({ type: 'presence', user: username, online: true, lastSeen: new Date().toISOString() });
    },

    /** The user may have no live socket left on any replica: settle them after the grace period. */
    lastSocketGone(username: string): void {
      if (pending.has(username)) return;
      const timer = setTimeout(() => void settle(username), graceMs);
      timer.unref();
      pending.set(username, timer);
    },

    /**
     * On shutdown: settles now those whose grace is still running, rather than leaving them to the
     * sweep (a lease-length later). Clients reconnect elsewhere at once on 1001, so most are no transition.
     */
    async flush(): Promise<void> {
      const users = [...pending.keys()];
      for (const timer of pending.values()) clearTimeout(timer);
      await Promise.all(users.map(settle));
    },
  };
}

export type PresenceTracker = ReturnType<typeof createPresenceTracker>;
