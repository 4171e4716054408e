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

/** Redis Cluster nodes also listen on port + 10 000, their cluster bus (Redis's fixed offset). */
export const CLUSTER_BUS_OFFSET = 10_000;
const EPHEMERAL_START = 32_768;

/**
 * A port for a Redis Cluster node: free, and its bus port (port + 10 000) free too, both below the
 * ephemeral range. A port from freePort() can have its bus port up in that range, where any
 * outgoing connection may hold it (seen in CI: "Failed listening on port 37064 (cluster)").
 */
export async function freeClusterPort(): Promise<number> {
  const size = EPHEMERAL_START - CLUSTER_BUS_OFFSET - RANGE_START;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const port = RANGE_START + Math.floor(Math.random() * size);
    if ((await portIsFree(port)) && (await portIsFree(port + CLUSTER_BUS_OFFSET))) return port;
  }
  throw new Error(`freeClusterPort: no free port pair below ${EPHEMERAL_START} after ${ATTEMPTS} tries`);
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
