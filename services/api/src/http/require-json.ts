import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { UnsupportedMediaTypeError } from '@chat/contracts';

/** A body is sent when it has a length above 0, or is chunked (its length is not known up front). */
function carriesBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) !== 0);
}

/**
 * Requests that carry a body must say it is JSON. A POST sent without one (a route that needs no
 * body, like leave; fetch then sends `Content-Length: 0` and no type) is not refused here: a route
 * that needs a body refuses its absence as 400.
 */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT') {
    if (carriesBody(req.headers) && !req.is('application/json')) {
      next(new UnsupportedMediaTypeError('send the body as application/json'));
      return;
    }
  }
  next();
};
