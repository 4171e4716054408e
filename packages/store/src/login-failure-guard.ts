import type { Keys } from './keys.js';
import { safeSubject, type RateCharge, type RateLimiter } from './rate-limiter.js';

export interface LoginFailureLimits {
  /** Failed logins in a row for one username from one client address. */
  perUsernameAndAddress: number;
  /** Failed logins from one client address, whatever the username. */
  perAddress: number;
  windowMs: number;
}

/** A login that may go ahead: it counts as failed unless the caller says otherwise. */
export interface LoginAttempt {
  allowed: true;
  /**
   * The password matched: forgets this address's failures for the username, this attempt
   * included, in both counters (they were the owner's typos, not guesses).
   */
  succeeded(): Promise<void>;
}

export type LoginAdmission = LoginAttempt | { allowed: false; retryAfterSeconds: number };

/**
 * Limits failed logins without handing anyone a lockout: failures are counted per (username,
 * client address) and per address, never per username alone, so a stranger failing from elsewhere
 * never refuses the owner's address. Each attempt is counted as a failure before the password is
 * checked (so concurrent guesses cannot all slip past the limit) and taken back when it succeeds.
 * The rate-limiter-flexible login recipe counts the same two things, but checks and counts in two
 * steps; the counters here are the project's own (rate-limiter.ts) so there is one limiter.
 */
export function createLoginFailureGuard(limiter: RateLimiter, keys: Keys, limits: LoginFailureLimits) {
  function counters(username: string, address: string | undefined): { pair: RateCharge; address: RateCharge } {
    const from = safeSubject(address);
    return {
      pair: { key: keys.loginFailures(from, safeSubject(username)), limit: limits.perUsernameAndAddress, windowMs: limits.windowMs },
      address: { key: keys.loginFailures(from), limit: limits.perAddress, windowMs: limits.windowMs },
    };
  }

  return {
    /** Admits a login for `username` from `address` while neither has failed too often, counting it as a failure. */
    async admit(username: string, address: string | undefined): Promise<LoginAdmission> {
      const { pair, address: fromAddress } = counters(username, address);
      const verdict = await limiter.hitBothIfRoom(pair, fromAddress);
      if (!verdict.allowed) return { allowed: false, retryAfterSeconds: verdict.retryAfterSeconds };
      return {
        allowed: true,
        async succeeded() {
          await limiter.forget(pair, fromAddress);
        },
      };
    },
  };
}

export type LoginFailureGuard = ReturnType<typeof createLoginFailureGuard>;
