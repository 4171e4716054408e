import type { Logger } from '@chat/logger';
import type { PresenceStore } from '@chat/store';
import { startPeriodicTask } from './periodic-task.js';

export interface PresenceSweeperDeps {
  presence: PresenceStore;
  logger: Logger;
  intervalMs: number;
  /** Users taken offline by the sweep (their gateway died, or stopped before their grace ran out). */
  onSweptOffline: (count: number) => void;
}

/** Users settled per round; a sweep runs rounds until it finds fewer. */
const SWEEP_BATCH = 500;

/**
 * Takes offline the users whose last socket lease ran out without their gateway settling them: a
 * gateway killed (or cut off from Redis) cannot, so without this they would stay online forever.
 * Runs in the worker, not in every gateway, so its cost does not grow with the replicas; several
 * workers may sweep at once, as settling is atomic and announces once. Together with the leases'
 * ttl this bounds how long a dead gateway's users look online: ttl + intervalMs.
 */
export function startPresenceSweeper(deps: PresenceSweeperDeps): { stop(): Promise<void> } {
  let stopped = false;

  async function sweep(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const users = await deps.presence.lapsed(now, SWEEP_BATCH);
      let offline = 0;
      for (const user of users) {
        const lastSeen = await deps.presence.settle(user, now);
        if (lastSeen === undefined) continue;
        offline += 1;
        await deps.presence.announce({ type: 'presence', user, online: false, lastSeen: new Date(lastSeen).toISOString() });
      }
      // After settling: a crash before this leaves entries the next sweep settles again (no-ops).
      await deps.presence.forgetLapsed(users, now);
      if (offline > 0) {
        deps.logger.info({ offline }, 'presence sweep took users offline whose leases ran out');
        deps.onSweptOffline(offline);
      }
      if (users.length < SWEEP_BATCH || stopped) return;
    }
  }

  const periodic = startPeriodicTask(sweep, deps.intervalMs, (error) => deps.logger.warn({ err: error }, 'presence sweep failed; will retry'));
  return {
    async stop() {
      // A sweep with many users to settle ends after its current batch.
      stopped = true;
      await periodic.stop();
    },
  };
}
