import type { Redis } from './connect-redis.js';
import { waitForRedis } from './connect-redis.js';
import type { Keys } from './keys.js';

/** The data in Redis was written with another key layout than this process would use. */
export class KeyLayoutMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/**
 * On a cluster the partition count decides which slot each conversation's keys live in
 * (keys.ts): a process using another count would not find them. The first process records the
 * layout; every later one must match it, or it refuses to start (a clear error, not lost data).
 * On one Redis the keys do not depend on it: nothing to check.
 */
export async function claimKeyLayout(redis: Redis, keys: Keys, timeoutMs = 30_000): Promise<void> {
  if (!keys.clustered) return;
  await waitForRedis(redis, timeoutMs);
  const wanted = `cluster partitions=${keys.partitions}`;
  await redis.set(keys.layout(), wanted, 'NX');
  const recorded = await redis.get(keys.layout());
  if (recorded !== wanted) {
    throw new KeyLayoutMismatchError(
      `the data under prefix ${keys.prefix} was written with ${recorded ?? 'no layout'}, not ${wanted}: set DELIVERY_PARTITIONS to match it`,
    );
  }
}
