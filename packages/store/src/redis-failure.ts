import { UnavailableError } from '@chat/contracts';

/**
 * Turns "Redis is away" (connection closed, offline queue refused, timeout, retries exhausted,
 * LOADING/MISCONF/BUSY/OOM replies) into UnavailableError so it reaches users as 503 and never as
 * Redis error text. Anything else is a bug and is rethrown unchanged.
 */
const UNAVAILABLE_PATTERNS = [
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /enableOfflineQueue/i,
  /Command timed out/i,
  /max retries per request/i,
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH/,
  /^(LOADING|MISCONF|BUSY|OOM|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/,
];

export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = `${error.name} ${error.message}`;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return UNAVAILABLE_PATTERNS.some((pattern) => pattern.test(error.message) || pattern.test(text));
}

export async function guardRedis<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (isRedisUnavailable(error)) throw new UnavailableError('storage is unavailable, try again shortly');
    throw error;
  }
}
