import type { ConnectionRegistry } from './connection-registry.js';
import type { SocketSlotLease } from './socket-slot-lease.js';

/**
 * Protocol-level heartbeat: every interval each socket is pinged, and a socket that did not
 * answer the previous ping is dead (terminated). The same tick extends the sockets' slot leases.
 */
export function startHeartbeat(connections: ConnectionRegistry, slots: SocketSlotLease, intervalMs: number): { stop(): void } {
  const timer = setInterval(() => {
    slots.refresh(connections.all());
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
