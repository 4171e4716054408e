import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { extname, resolve, sep } from 'node:path';
import { createProxyServer } from 'http-proxy-3';
import type { Logger } from '@chat/logger';

export interface DevEdgeOptions {
  /** Where /api/*, /healthz and /readyz go. */
  apiUrl: string;
  /** Gateway replicas; WebSocket upgrades on /ws are spread over them round-robin. */
  gatewayUrls: string[];
  /** Files served for other GET requests, when the directory exists. */
  staticDir?: string;
  /** How long a replica that refused a connection is skipped. Default 3 s. */
  replicaCooldownMs?: number;
  logger?: Logger;
}

/** The edge's http.Server; `shutdown()` also ends the WebSocket tunnels, which close() alone waits for. */
export interface DevEdgeServer extends Server {
  shutdown(): Promise<void>;
}

interface Replica {
  target: string;
  /** Date.now() before which this replica is skipped, after it refused a connection. */
  downUntil: number;
}

// Not /metrics, as at the nginx edge: metrics are read from each service's own port.
const API_PATHS = new Set(['/healthz', '/readyz']);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

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

/** Resolves a URL path inside `root`, or undefined if it would escape it or is malformed. */
function safeJoin(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch (error) {
    if (error instanceof URIError) return undefined;
    throw error;
  }
  if (decoded.includes('\0')) return undefined;
  const target = resolve(root, `.${decoded}`);
  return target === root || target.startsWith(root + sep) ? target : undefined;
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat?.isDirectory()) return false;
  let file = safeJoin(root, pathnameOf(req));
  if (file === undefined) return false;
  let fileStat = await stat(file).catch(() => undefined);
  if (fileStat?.isDirectory()) {
    file = resolve(file, 'index.html');
    fileStat = await stat(file).catch(() => undefined);
  }
  if (!fileStat?.isFile()) return false;
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': fileStat.size,
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
  return true;
}

/**
 * The local stand-in for a production load balancer: one origin for the browser, the api behind
 * /api, WebSocket upgrades on /ws spread over the gateway replicas. Not listening yet.
 */
export function createDevEdge(options: DevEdgeOptions): DevEdgeServer {
  if (options.gatewayUrls.length === 0) throw new Error('createDevEdge: at least one gateway URL is needed');
  const cooldownMs = options.replicaCooldownMs ?? 3_000;
  const replicas: Replica[] = options.gatewayUrls.map((target) => ({ target, downUntil: 0 }));
  let nextReplica = 0;
  const agent = new Agent({ keepAlive: true });
  const proxy = createProxyServer({ xfwd: true, agent });
  const tunnels = new Set<Duplex>();
  const upgraded = new WeakSet<Duplex>();
  const logger = options.logger;

  // Errors are handled by the per-call callbacks; this listener only keeps a stray one from crashing the edge.
  proxy.on('error', (error) => logger?.warn({ err: { message: error.message } }, 'proxy error'));
  proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
    proxyReq.once('upgrade', () => upgraded.add(socket));
  });

  function pickReplica(): Replica {
    const now = Date.now();
    for (let offset = 0; offset < replicas.length; offset += 1) {
      const index = (nextReplica + offset) % replicas.length;
      const replica = replicas[index];
      if (replica && replica.downUntil <= now) {
        nextReplica = (index + 1) % replicas.length;
        return replica;
      }
    }
    // Every replica refused recently: keep rotating rather than refusing everyone outright.
    const replica = replicas[nextReplica % replicas.length] as Replica;
    nextReplica = (nextReplica + 1) % replicas.length;
    return replica;
  }

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
    const staticDir = options.staticDir;
    if (staticDir !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
      serveStatic(resolve(staticDir), req, res).then(
        (served) => {
          if (!served) sendError(res, 404, 'not_found', `no route for ${req.method} ${path}`);
        },
        (error: unknown) => {
          logger?.warn({ err: { message: error instanceof Error ? error.message : String(error) }, path }, 'static file failed');
          sendError(res, 500, 'internal', 'could not read the file');
        },
      );
      return;
    }
    sendError(res, 404, 'not_found', `no route for ${req.method} ${path}`);
  }) as DevEdgeServer;

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

  server.on('close', () => agent.destroy());

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
