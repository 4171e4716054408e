import { CloseCode } from '@chat/contracts';
import type { ConnectionRegistry } from './connection-registry.js';
import { withTimeout } from './with-timeout.js';

/**
 * Closes every socket with 1001 (clients reconnect elsewhere) and waits for them; those still
 * open after `timeoutMs` are cut.
 */
export async function closeAllSockets(connections: ConnectionRegistry, timeoutMs: number): Promise<void> {
  const sockets = [...connections.all()];
  const allClosed = Promise.all(
    sockets.map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.socket.readyState === client.socket.CLOSED) resolve();
          else client.socket.once('close', () => resolve());
        }),
    ),
  );
  for (const client of sockets) client.close(CloseCode.GoingAway, 'server shutting down; reconnect');
  await withTimeout(allClosed, timeoutMs, 'closing sockets').catch(() => {
    for (const client of connections.all()) client.socket.terminate();
  });
}
