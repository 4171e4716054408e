import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { luaScript, runScript } from './run-script.js';

/**
 * Counts one hit on a fixed-window counter and returns the count and the window's remaining ms.
 * A Lua function, so a script that writes (the message append) can charge a limit in the same
 * round trip and atomic step as its write.
 */
export const RATE_HIT_LUA = `
local function rateHit(key, windowMs)
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, windowMs) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, windowMs)
    ttl = windowMs
  end
  return count, ttl
end
`;

/**
 * Fixed-window counters in Redis, so a limit holds across every replica of a service. One round
 * trip: count the hit and read how long the window has left.
 */
const HIT = luaScript(`${RATE_HIT_LUA}
return { rateHit(KEYS[1], tonumber(ARGV[1])) }
`);

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

/** One hit of a limit on one subject, for a script to count along with its own work (RATE_HIT_LUA). */
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

export function createRateLimiter(redis: Redis, keys: Keys) {
  function charge(rule: RateLimit, subject: string): RateCharge {
    const safeSubject = SUBJECT.test(subject) ? subject : 'unknown';
    return { key: keys.rateCounter(rule.scope, safeSubject), limit: rule.limit, windowMs: rule.windowMs };
  }
  return {
    charge,
    async hit(rule: RateLimit, subject: string): Promise<RateVerdict> {
      const { key, limit, windowMs } = charge(rule, subject);
      const [count, ttl] = (await guardRedis(runScript(redis, HIT, [key], [windowMs]))) as [number, number];
      return { allowed: count <= limit, retryAfterSeconds: retryAfterSeconds(ttl) };
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
