import type { Redis } from './connect-redis.js';

/**
 * Closes a connection for good, as a service's stop() must: QUIT when it is connected (so replies
 * already on their way arrive), otherwise it is dropped at once. A bare `quit()` is not enough: on
 * a fail-fast connection that is still (re)connecting it is refused, and the connection goes on
 * reconnecting forever. Never rejects.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // Lost while quitting: dropped below like one that never connected.
    }
  }
  redis.disconnect();
}
