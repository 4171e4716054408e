import { decodeDeliveryEvent } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { ConnectionRegistry } from './connection-registry.js';
import type { GatewayMetrics } from './gateway-metrics.js';

export interface DeliveryFanoutDeps {
  connections: ConnectionRegistry;
  metrics: GatewayMetrics;
  logger: Logger;
}

/**
 * Hands a delivery event from a user's channel to every socket that user holds here. The payload
 * comes from Redis, so it is decoded defensively: a malformed one is counted and skipped.
 */
export function createDeliveryFanout({ connections, metrics, logger }: DeliveryFanoutDeps) {
  return function fanOut(username: string, payload: Buffer): void {
    const sockets = connections.socketsOf(username);
    if (!sockets) return;
    const event = decodeDeliveryEvent(payload);
    if (!event) {
      metrics.malformedEvents.inc();
      logger.debug({ channelUser: username, bytes: payload.length }, 'skipping malformed delivery event');
      return;
    }
    metrics.events.inc();
    for (const client of sockets) client.deliver(event);
    metrics.deliveryLatency.observe(Math.max(0, Date.now() - event.acceptedAtMs) / 1000);
  };
}
