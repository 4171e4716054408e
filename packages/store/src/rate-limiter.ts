import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { STORE_SCRIPTS } from './store-scripts.js';

export interface RateVerdict {
  allowed: boolean;
  /** Whole seconds until the window resets (for Retry-After). */
  retryAfterSeconds: number;
}

export interface RateLimit {
  /** Names the counter (`login-ip`, `user`, …). */
  scope: string;
  limit: number;
  windowMs: number;
}

/** One hit of a limit on one subject, for a script to count along with its own work (lua/includes/rate-hit.lua). */
export interface RateCharge {
  key: string;
  limit: number;
  windowMs: number;
}

/** What may go into a counter key: an IP address, a username or an id, nothing else. */
const SUBJECT = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Whole seconds, at least 1, until a window with `ttlMs` left resets: the Retry-After. */
export function retryAfterSeconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/**
 * Fixed-window counters in Redis, so a limit holds across every replica of a service. One round
 * trip: count the hit and read how long the window has left (lua/count-rate-hit-1.lua).
 */
export function createRateLimiter(redis: Redis, keys: Keys) {
  function charge(rule: RateLimit, subject: string): RateCharge {
    const safeSubject = SUBJECT.test(subject) ? subject : 'unknown';
    return { key: keys.rateCounter(rule.scope, safeSubject), limit: rule.limit, windowMs: rule.windowMs };
  }
  return {
    charge,
    async hit(rule: RateLimit, subject: string): Promise<RateVerdict> {
      const { key, limit, windowMs } = charge(rule, subject);
      const [count, ttl] = await guardRedis(STORE_SCRIPTS.countRateHit.run(redis, [key], [windowMs]));
      return { allowed: count <= limit, retryAfterSeconds: retryAfterSeconds(ttl) };
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
