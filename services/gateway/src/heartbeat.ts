import type { ConnectionRegistry } from './connection-registry.js';

/**
 * Protocol-level heartbeat: every interval each socket is pinged, and a socket that did not
 * answer the previous ping is dead (terminated). Slot leases are renewed on their own timer
 * (socket-slot-lease.ts): presence needs them shorter than a heartbeat.
 */
export function startHeartbeat(connections: ConnectionRegistry, intervalMs: number): { stop(): void } {
  const timer = setInterval(() => {
    for (const client of connections.all()) {
      if (client.awaitingPong) {
        client.socket.terminate();
        continue;
      }
      client.awaitingPong = true;
      client.socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
