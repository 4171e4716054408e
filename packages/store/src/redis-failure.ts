import { UnavailableError } from '@chat/contracts';

/**
 * Turns "Redis is away" (connection closed, offline queue refused, timeout, retries exhausted,
 * LOADING/MISCONF/BUSY/OOM replies, cluster redirections exhausted) into UnavailableError so it
 * reaches users as 503 and never as Redis error text. Anything else is a bug and is rethrown
 * unchanged.
 */
const UNAVAILABLE_PATTERNS = [
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /enableOfflineQueue/i,
  /Command timed out/i,
  /max retries per request/i,
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH/,
  /^(LOADING|MISCONF|BUSY|OOM|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/,
  // ioredis on a cluster, after MOVED/ASK/TRYAGAIN redirections ran out while a slot migrated or
  // failed over: the command ran nowhere.
  /^Too many Cluster redirections/,
];

export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = `${error.name} ${error.message}`;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return UNAVAILABLE_PATTERNS.some((pattern) => pattern.test(error.message) || pattern.test(text));
}

/**
 * Redis refused a write because it is at `maxmemory` (it runs with `noeviction`): still a 503, and
 * nothing was written (a script is refused at its first write), but reads keep working, so a
 * caller may go on where only a write of bookkeeping was refused (rate-limit.ts does).
 */
export class StorageFullError extends UnavailableError {}

/** An -OOM reply, also inside a script's error or a transaction's queued commands (EXECABORT). */
function isOutOfMemory(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (/^OOM\b/.test(error.message)) return true;
  const previous = (error as { previousErrors?: unknown }).previousErrors;
  return Array.isArray(previous) && previous.some(isOutOfMemory);
}

export async function guardRedis<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (isOutOfMemory(error)) throw new StorageFullError('storage is full, try again later');
    if (isRedisUnavailable(error)) throw new UnavailableError('storage is unavailable, try again shortly');
    throw error;
  }
}
