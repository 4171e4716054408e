import type { RequestHandler } from 'express';
import { UnsupportedMediaTypeError } from '@chat/contracts';

/** Requests that carry a body must say it is JSON. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT') {
    if (!req.is('application/json')) {
      next(new UnsupportedMediaTypeError('send the body as application/json'));
      return;
    }
  }
  next();
};
