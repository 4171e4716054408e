import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { luaScript, runScript } from './run-script.js';

/**
 * Fixed-window counters in Redis, so a limit holds across every replica of a service. One round
 * trip: count the hit and read how long the window has left.
 */
const HIT = luaScript(`
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
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

/** What may go into a counter key: an IP address, a username or an id, nothing else. */
const SUBJECT = /^[A-Za-z0-9_.:-]{1,64}$/;

export function createRateLimiter(redis: Redis, keys: Keys) {
  return {
    async hit(rule: RateLimit, subject: string): Promise<RateVerdict> {
      const safeSubject = SUBJECT.test(subject) ? subject : 'unknown';
      const [count, ttl] = (await guardRedis(
        runScript(redis, HIT, [keys.rateCounter(rule.scope, safeSubject)], [rule.windowMs]),
      )) as [number, number];
      return { allowed: count <= rule.limit, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
