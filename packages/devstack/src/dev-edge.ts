import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { resolve } from 'node:path';
import { createProxyServer } from 'http-proxy-3';
import serveStatic from 'serve-static';
import type { Logger } from '@chat/logger';
import { answerClientErrors } from '@chat/metrics';
import { answers200 } from './answers-200.js';

export interface DevEdgeOptions {
  /** Where /api/*, /healthz and /readyz go. */
  apiUrl: string;
  /** Gateway replicas; WebSocket upgrades on /ws are spread over them round-robin. */
  gatewayUrls: string[];
  /** Files served for other GET requests, when the directory exists. */
  staticDir?: string;
  /** How long a replica that refused a connection is skipped. Default 3 s. */
  replicaCooldownMs?: number;
  /** How often each replica's /healthz is asked; one that does not answer 200 gets no new sockets. Default 1 s. */
  healthCheckIntervalMs?: number;
  logger?: Logger;
}

/** The edge's http.Server; `shutdown()` also ends the WebSocket tunnels, which close() alone waits for. */
export interface DevEdgeServer extends Server {
  shutdown(): Promise<void>;
  /** Asks every replica's /healthz now instead of at the next interval (tests). */
  checkReplicas(): Promise<void>;
}

interface Replica {
  target: string;
  /** What the last health check said (a replica counts as healthy until one says otherwise). */
  healthy: boolean;
  /** Date.now() before which this replica is skipped, after it refused a connection. */
  downUntil: number;
}

// Not /metrics, as at the nginx edge: metrics are read from each service's own port.
const API_PATHS = new Set(['/healthz', '/readyz']);

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(code, message);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** An HTTP answer on a socket whose request asked for an upgrade (there is no ServerResponse). */
function sendRawError(socket: Duplex, status: number, reason: string, code: string, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = errorBody(code, message);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function pathnameOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://edge.invalid').pathname;
}

function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/') || API_PATHS.has(path);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * The page's files, as the nginx edge serves them: `no-cache` because the file names carry no
 * content hash, so a browser revalidates (ETag, Last-Modified) and a new build shows at once.
 * serve-static refuses paths that leave the root or do not decode; those fall through to the 404.
 */
function staticFiles(root: string) {
  return serveStatic(resolve(root), {
    cacheControl: false,
    dotfiles: 'allow',
    setHeaders: (res) => res.setHeader('cache-control', 'no-cache'),
  });
}

/**
 * The local stand-in for a production load balancer: one origin for the browser, the api behind
 * /api, WebSocket upgrades on /ws spread over the gateway replicas. Not listening yet.
 */
export function createDevEdge(options: DevEdgeOptions): DevEdgeServer {
  if (options.gatewayUrls.length === 0) throw new Error('createDevEdge: at least one gateway URL is needed');
  const cooldownMs = options.replicaCooldownMs ?? 3_000;
  const replicas: Replica[] = options.gatewayUrls.map((target) => ({ target, healthy: true, downUntil: 0 }));
  const healthCheckIntervalMs = options.healthCheckIntervalMs ?? 1_000;
  let nextReplica = 0;
  const agent = new Agent({ keepAlive: true });
  const proxy = createProxyServer({ xfwd: true, agent });
  const tunnels = new Set<Duplex>();
  const upgraded = new WeakSet<Duplex>();
  const logger = options.logger;
  const serveFiles = options.staticDir === undefined ? undefined : staticFiles(options.staticDir);

  // Errors are handled by the per-call callbacks; this listener only keeps a stray one from crashing the edge.
  proxy.on('error', (error) => logger?.warn({ err: { message: error.message } }, 'proxy error'));
  proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
    proxyReq.once('upgrade', () => upgraded.add(socket));
  });

  /** The next replica in turn that answers its health check and has not refused a connection lately. */
  function pickReplica(): Replica {
    const now = Date.now();
    for (let offset = 0; offset < replicas.length; offset += 1) {
      const index = (nextReplica + offset) % replicas.length;
      const replica = replicas[index];
      if (replica && replica.healthy && replica.downUntil <= now) {
        nextReplica = (index + 1) % replicas.length;
        return replica;
      }
    }
    // No replica looks up: keep rotating rather than refusing everyone outright.
    const replica = replicas[nextReplica % replicas.length] as Replica;
    nextReplica = (nextReplica + 1) % replicas.length;
    return replica;
  }

  // Active health checks, as a production balancer runs them: a replica that died (or is being
  // restarted by npm start's supervisor) stops getting new sockets within one interval, before any
  // client is refused, and gets them again once it answers. The passive cooldown above covers the
  // moments between two checks.
  async function checkReplicas(): Promise<void> {
    await Promise.all(
      replicas.map(async (replica) => {
        replica.healthy = await answers200(`${replica.target}/healthz`, healthCheckIntervalMs);
      }),
    );
  }
  let checking: Promise<void> | undefined;
  const checkNow = (): Promise<void> =>
    (checking ??= checkReplicas().finally(() => {
      checking = undefined;
    }));
  const healthChecks = setInterval(() => void checkNow(), healthCheckIntervalMs);
  healthChecks.unref();

  const server = createServer((req, res) => {
    const path = pathnameOf(req);
    if (path === '/ws') {
      sendError(res, 426, 'upgrade_required', 'GET /ws needs a WebSocket upgrade', { upgrade: 'websocket', connection: 'Upgrade' });
      return;
    }
    if (isApiPath(path)) {
      proxy.web(req, res, { target: options.apiUrl }, (error) => {
        logger?.warn({ err: { message: error.message }, target: options.apiUrl, path }, 'api unreachable through the edge');
        sendError(res, 502, 'unavailable', 'the api service is not answering; try again shortly');
      });
      return;
    }
    if (serveFiles !== undefined) {
      serveFiles(req, res, (error) => {
        if (error === undefined) {
          sendError(res, 404, 'not_found', `no route for ${req.method} ${path}`);
          return;
        }
        logger?.warn({ err: { message: error.message }, path }, 'static file failed');
        sendError(res, 500, 'internal', 'could not read the file');
      });
      return;
    }
    sendError(res, 404, 'not_found', `no route for ${req.method} ${path}`);
  }) as DevEdgeServer;
  answerClientErrors(server);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => logger?.debug({ err: { message: error.message } }, 'client socket error'));
    if (pathnameOf(req) !== '/ws') {
      sendRawError(socket, 404, 'Not Found', 'not_found', 'WebSocket upgrades are only served on /ws');
      return;
    }
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
    const replica = pickReplica();
    proxy.ws(req, socket, head, { target: replica.target }, (error) => {
      if (errorCode(error) === 'ECONNREFUSED') replica.downUntil = Date.now() + cooldownMs;
      if (upgraded.has(socket)) return;
      logger?.warn({ err: { message: error.message }, target: replica.target }, 'gateway unreachable through the edge');
      sendRawError(socket, 502, 'Bad Gateway', 'unavailable', 'the gateway is not answering; reconnect shortly');
    });
  });

  server.on('close', () => {
    clearInterval(healthChecks);
    agent.destroy();
  });

  server.checkReplicas = checkNow;

  let closing: Promise<void> | undefined;
  server.shutdown = () => {
    closing ??= new Promise<void>((resolveClosed, rejectClosed) => {
      if (!server.listening) {
        resolveClosed();
        return;
      }
      server.close((error) => (error ? rejectClosed(error) : resolveClosed()));
      server.closeAllConnections();
      for (const socket of tunnels) socket.destroy();
    });
    return closing;
  };

  return server;
}
