import type { Redis } from './connect-redis.js';
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

/** The subject as it may go into a key: anything else is counted as one `unknown` subject. */
export function safeSubject(subject: string | undefined): string {
  return subject !== undefined && SUBJECT.test(subject) ? subject : 'unknown';
}

/** Whole seconds, at least 1, until a window with `ttlMs` left resets: the Retry-After. */
export function retryAfterSeconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/**
 * Fixed-window counters in Redis, so a limit holds across every replica of a service. One round
 * trip: count the hit and read how long the window has left (lua/count-rate-hit-1.lua).
 *
 * Counting only failures (login-failure-guard.ts) uses the same counters the other way round:
 * count the attempt up front where there is room (hitBothIfRoom), then forget the hits once
 * the attempts turn out not to have failed (forget). Counting after the outcome
 * instead would let concurrent attempts all pass a check made before any of them was counted.
 */
export function createRateLimiter(redis: Redis, keys: Keys) {
  function charge(rule: RateLimit, subject: string): RateCharge {
    return { key: keys.rateCounter(rule.scope, safeSubject(subject)), limit: rule.limit, windowMs: rule.windowMs };
  }
  return {
    charge,
    async hit(rule: RateLimit, subject: string): Promise<RateVerdict> {
      const { key, limit, windowMs } = charge(rule, subject);
      const [count, ttl] = await guardRedis(STORE_SCRIPTS.countRateHit.run(redis, [key], [windowMs, limit]));
      return { allowed: count <= limit, retryAfterSeconds: retryAfterSeconds(ttl) };
    },
    /**
     * Counts one hit on both counters when neither is full, else on neither: an attempt refused by
     * one counter is not charged to the other. The keys must share a hash tag: one script counts both.
     */
    async hitBothIfRoom(first: RateCharge, second: RateCharge): Promise<RateVerdict> {
      const [counted, waitMs] = await guardRedis(
        STORE_SCRIPTS.countRateHitsIfRoom.run(redis, [first.key, second.key], [first.limit, first.windowMs, second.limit, second.windowMs]),
      );
      return { allowed: counted === 1, retryAfterSeconds: counted === 1 ? 0 : retryAfterSeconds(waitMs) };
    },
    /**
     * Forgets `counter` and takes its hits back from `total`, which counted each of them too (same
     * hash tag): the attempts turned out not to be failures.
     */
    async forget(counter: RateCharge, total: RateCharge): Promise<void> {
      await guardRedis(STORE_SCRIPTS.forgetRateHits.run(redis, [counter.key, total.key], []));
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
