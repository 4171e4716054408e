import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '@chat/logger';
import type { Histogram } from '@chat/metrics';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
    /** Set by `authenticate`. */
    username?: string;
    /** Where the router that matched is mounted; express resets baseUrl before error handlers. */
    routeBase?: string;
  }
}

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** First middleware of a mounted router: remembers its mount path for the metrics label. */
export const rememberRouteBase: RequestHandler = (req, _res, next) => {
  req.routeBase = req.baseUrl;
  next();
};

/**
 * Gives each request an id (the caller's X-Request-Id when it is sane), a child logger and one
 * log line and one histogram sample when it ends. Never logs headers or the query string.
 */
export function requestContext(logger: Logger, duration: Histogram<'method' | 'route' | 'status'>): RequestHandler {
  return (req, res, next) => {
    const header = req.get('x-request-id');
    req.id = header && REQUEST_ID.test(header) ? header : randomUUID();
    req.log = logger.child({ reqId: req.id });
    res.setHeader('x-request-id', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route ? `${req.routeBase ?? req.baseUrl}${String(req.route.path)}` : 'unmatched';
      duration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      const line = { method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10, user: req.username };
      if (res.statusCode >= 500) req.log.warn(line, 'request failed');
      else req.log.debug(line, 'request');
    });
    next();
  };
}
