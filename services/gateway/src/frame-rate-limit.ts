/**
 * A token bucket per socket: `perSecond` client frames on average, bursts of `burst`. Two numbers
 * per socket, refilled lazily when a frame arrives (no timers).
 */
export class FrameRateLimit {
  private tokens: number;
  private updatedAt = Date.now();
  /** Frames refused since the last one let through. */
  refusedInARow = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return true;
    }
    this.refusedInARow += 1;
    return false;
  }
}
