import type { EventEmitter } from 'node:events';
import type { Logger } from '@chat/logger';
import { Counter, type Registry } from '@chat/metrics';

/**
 * Logs a service's Redis connections going away and coming back (once per outage, not once per
 * retry) and counts reconnections in chat_redis_reconnects_total{connection}.
 */
export function watchRedis(connections: Record<string, EventEmitter>, logger: Logger, registry: Registry): void {
  const reconnects = new Counter({
    name: 'chat_redis_reconnects_total',
    help: 'Redis connections re-established after a loss',
    labelNames: ['connection'] as const,
    registers: [registry],
  });
  for (const [name, connection] of Object.entries(connections)) {
    let everReady = false;
    let down = false;
    connection.on('ready', () => {
      if (everReady) {
        reconnects.inc({ connection: name });
        logger.info({ connection: name }, 'redis connection back');
      }
      everReady = true;
      down = false;
    });
    connection.on('error', (error: Error) => {
      if (down) return;
      down = true;
      logger.warn({ connection: name, err: { message: error.message } }, 'redis connection lost; retrying');
    });
  }
}
