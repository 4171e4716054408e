export interface BackoffOptions {
  /** The first retry's ceiling, in ms. */
  minDelayMs: number;
  /** No retry waits longer than this, in ms. */
  maxDelayMs: number;
  /** Default Math.random. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: attempt n waits a uniform random time in
 * [0, min(max, min·2ⁿ)], so clients dropped together by one replica do not come back together.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}
