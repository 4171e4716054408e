import type { PresenceFrame } from './types.js';

/**
 * The latest presence seen per user. Transitions of one user may be announced by different
 * replicas and overtake each other on the way; `lastSeen` orders them (an online's is when it
 * began, an offline's when the user was last connected, never before the online it ends), so a
 * frame older than the one applied is stale and dropped.
 */
export class PresenceBook {
  private readonly latest = new Map<string, { online: boolean; lastSeenMs: number }>();

  /** True when `frame` is news (apply it); false when it is stale or repeats what is known. */
  accept(frame: PresenceFrame): boolean {
    const lastSeenMs = Date.parse(frame.lastSeen);
    const known = this.latest.get(frame.user);
    if (known && (lastSeenMs < known.lastSeenMs || (lastSeenMs === known.lastSeenMs && known.online === frame.online))) return false;
    this.latest.set(frame.user, { online: frame.online, lastSeenMs });
    return true;
  }
}
