import { decodeTypingEvent, decodeUserFrame } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { ConnectionRegistry } from './connection-registry.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { PresenceMetrics } from './presence-metrics.js';

export interface EphemeralFanoutDeps {
  connections: ConnectionRegistry;
  metrics: GatewayMetrics;
  presenceMetrics: PresenceMetrics;
  logger: Logger;
}

/**
 * Presence and typing frames from pub/sub to sockets here: written as they come, to sockets that
 * have had `ready`, and never kept (a socket that was not there misses them, as the contract says).
 */
export function createEphemeralFanout({ connections, metrics, presenceMetrics, logger }: EphemeralFanoutDeps) {
  function sendTo(username: string, frame: Buffer): void {
    for (const client of connections.socketsOf(username) ?? []) {
      if (client.isReady && client.send(frame)) presenceMetrics.ephemeralSent.inc();
    }
  }
  return {
    /** A payload from `username`'s channel: true when it was a frame for their sockets (handled here). */
    onUserPayload(username: string, payload: Buffer): boolean {
      const frame = decodeUserFrame(payload);
      if (!frame) return false;
      sendTo(username, frame);
      return true;
    },
    /** A typing event from a conversation's channel, for the members it names. */
    onTypingEvent(payload: Buffer): void {
      const event = decodeTypingEvent(payload);
      if (!event) {
        metrics.malformedEvents.inc();
        logger.debug({ bytes: payload.length }, 'skipping malformed typing event');
        return;
      }
      for (const member of event.members) sendTo(member, event.frame);
    },
  };
}
