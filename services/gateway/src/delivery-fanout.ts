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
 * Hands a delivery event from a conversation's channel to every socket here of the members it
 * names, and to nobody else: the names were read with the publish, so a member removed before it
 * is not among them. The payload comes from Redis, so it is decoded defensively: a malformed one
 * is counted and skipped.
 */
export function createDeliveryFanout({ connections, metrics, logger }: DeliveryFanoutDeps) {
  return function fanOut(payload: Buffer): void {
    const event = decodeDeliveryEvent(payload);
    if (!event) {
      metrics.malformedEvents.inc();
      logger.debug({ bytes: payload.length }, 'skipping malformed delivery event');
      return;
    }
    let reached = false;
    for (const member of event.members) {
      const sockets = connections.socketsOf(member);
      if (!sockets) continue;
      reached = true;
      for (const client of sockets) client.deliver(event);
    }
    if (!reached) return;
    metrics.events.inc();
    metrics.deliveryLatency.observe(Math.max(0, Date.now() - event.acceptedAtMs) / 1000);
  };
}
