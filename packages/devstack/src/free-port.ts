import { createServer } from 'node:net';

/**
 * Ports handed out for test and benchmark services come from below Linux's ephemeral range
 * (32768-60999), where the OS also picks the local ports of outgoing connections: a port found
 * free there could be taken by any client's connection (a browser's, a load generator's) before
 * the service binds it. Random picks over 12 000 ports, checked by binding, rarely meet.
 */
const RANGE_START = 20_000;
const RANGE_SIZE = 12_000;
const ATTEMPTS = 50;

/** A port nobody is listening on right now, picked at random below the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const port = RANGE_START + Math.floor(Math.random() * RANGE_SIZE);
    if (await portIsFree(port)) return port;
  }
  throw new Error(`freePort: no free port in ${RANGE_START}-${RANGE_START + RANGE_SIZE - 1} after ${ATTEMPTS} tries`);
}

/** Whether `host:port` can be listened on right now (false when something already listens there). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    });
    server.listen(port, host, () => {
      server.close((error) => (error ? reject(error) : resolve(true)));
    });
  });
}
