import type { Request, RequestHandler } from 'express';
import { RateLimitedError } from '@chat/contracts';
import { StorageFullError, type RateLimit, type RateLimiter } from '@chat/store';

/**
 * Refuses a request with 429 and Retry-After once its subject (the user, the client address) has
 * used up the window. Counters live in Redis, so the limit holds
 * across every api replica.
 */
export function rateLimit(limiter: RateLimiter, rule: RateLimit, subjectOf: (req: Request) => string | undefined): RequestHandler {
  return async (req, _res, next) => {
    const subject = subjectOf(req);
    if (subject === undefined) {
      next();
      return;
    }
    const verdict = await limiter.hit(rule, subject).catch((error: unknown) => {
      // Redis at maxmemory refuses the counter, not the reads behind it: let them through (a
      // write is refused by its own script anyway) rather than refuse everything.
      if (error instanceof StorageFullError) return { allowed: true, retryAfterSeconds: 0 };
      throw error;
    });
    if (!verdict.allowed) throw new RateLimitedError('too many requests; slow down', verdict.retryAfterSeconds);
    next();
  };
}

/** The client address: the socket's, or the forwarded one when `trust proxy` says so. */
export function clientAddress(req: Request): string | undefined {
  return req.ip;
}
