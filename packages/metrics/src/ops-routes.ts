import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { answerClientErrors } from './answer-client-errors.js';

export interface OpsRoutesDeps {
  registry: Registry;
  /** Resolves true when the process can do its work (Redis answers). */
  isReady: () => Promise<boolean>;
}

/** The paths every service answers for its operators. */
export const OPS_PATHS = ['/healthz', '/readyz', '/metrics'] as const;
export type OpsPath = (typeof OPS_PATHS)[number];

/**
 * Answers one ops route. Takes node's request and response, so it is also an express handler
 * (`app.get('/healthz', handlers['/healthz'])`): express's objects extend node's.
 */
export type OpsHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const JSON_TYPE = 'application/json; charset=utf-8';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': JSON_TYPE, 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** /healthz, /readyz and /metrics, one handler per path: the one place their answers are written. */
export function createOpsHandlers(deps: OpsRoutesDeps): Record<OpsPath, OpsHandler> {
  return {
    '/healthz': async (_req, res) => {
      sendJson(res, 200, { status: 'ok' });
    },
    '/readyz': async (_req, res) => {
      const ready = await deps.isReady().catch(() => false);
      if (ready) sendJson(res, 200, { status: 'ready' });
      else sendJson(res, 503, { error: { code: 'unavailable', message: 'Redis is not reachable' } });
    },
    '/metrics': async (_req, res) => {
      const text = await deps.registry.metrics();
      res.writeHead(200, { 'content-type': deps.registry.contentType });
      res.end(text);
    },
  };
}

function isOpsPath(path: string): path is OpsPath {
  return (OPS_PATHS as readonly string[]).includes(path);
}

/**
 * The ops routes for processes that are not express apps (gateway, worker).
 * Returns false when the request is not one of these, so the caller can answer it.
 */
export function createOpsRoutes(deps: OpsRoutesDeps) {
  const handlers = createOpsHandlers(deps);
  return async function handleOps(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (!isOpsPath(path)) return false;
    await handlers[path](req, res);
    return true;
  };
}

export function sendNotFound(res: ServerResponse): void {
  sendJson(res, 404, { error: { code: 'not_found', message: 'no such route' } });
}

/**
 * An HTTP server answering only the ops routes (everything else 404 JSON). The gateway attaches
 * its WebSocket upgrade handler to the same server.
 */
export function createOpsServer(deps: OpsRoutesDeps & { onError: (error: unknown) => void }): Server {
  const handleOps = createOpsRoutes(deps);
  const server = createServer((req, res) => {
    handleOps(req, res)
      .then((handled) => {
        if (!handled) sendNotFound(res);
      })
      .catch((error: unknown) => {
        deps.onError(error);
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'internal error' } });
      });
  });
  answerClientErrors(server);
  return server;
}
