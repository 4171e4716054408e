import type { RequestHandler } from 'express';
import { UnauthenticatedError } from '@chat/contracts';
import { bearerToken, type TokenService } from '@chat/auth';

/** Requires `Authorization: Bearer <JWT>` and sets `req.username`. */
export function authenticate(tokens: TokenService): RequestHandler {
  return (req, _res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) {
      next(new UnauthenticatedError('missing bearer token'));
      return;
    }
    req.username = tokens.verify(token).username;
    next();
  };
}

/** The authenticated user; only for routes behind `authenticate`. */
export function currentUser(req: { username?: string }): string {
  if (!req.username) throw new UnauthenticatedError('not authenticated');
  return req.username;
}
