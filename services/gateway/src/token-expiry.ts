import { CloseCode } from '@chat/contracts';
import type { ConnectionRegistry } from './connection-registry.js';

const SWEEP_INTERVAL_MS = 1000;

/**
 * Closes sockets whose token expired (4401), checked for every socket once a second: one timer
 * for the replica, not one per socket. A client extends its expiry with an `auth` frame.
 */
export function startTokenExpirySweep(connections: ConnectionRegistry): { stop(): void } {
  const timer = setInterval(() => {
    const now = Date.now();
    for (const client of connections.all()) {
      if (client.expiresAtMs <= now) client.close(CloseCode.TokenExpired, 'token expired');
    }
  }, SWEEP_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
