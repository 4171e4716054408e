import { Router } from 'express';
import { UnauthenticatedError, credentialsSchema, type AuthResult } from '@chat/contracts';
import type { PasswordHasher, TokenService } from '@chat/auth';
import type { UserStore } from '@chat/store';
import { validate } from '../http/validate.js';

export interface AuthRoutesDeps {
  users: UserStore;
  passwords: PasswordHasher;
  tokens: TokenService;
}

export function authRoutes(deps: AuthRoutesDeps): Router {
  const router = Router();

  router.post('/auth/register', async (req, res) => {
    const { username, password } = validate(credentialsSchema, req.body, 'body');
    const hash = await deps.passwords.hash(password);
    const user = await deps.users.create(username, hash, new Date().toISOString());
    const body: AuthResult = { user, ...deps.tokens.sign(username) };
    res.status(201).json(body);
  });

  router.post('/auth/login', async (req, res) => {
    const { username, password } = validate(credentialsSchema, req.body, 'body');
    const found = await deps.users.find(username);
    const ok = found
      ? await deps.passwords.verify(password, found.passwordHash)
      : await deps.passwords.verifyAgainstDecoy(password);
    // One answer for "no such user" and "wrong password", so logins do not reveal who exists.
    if (!found || !ok) throw new UnauthenticatedError('wrong username or password');
    const body: AuthResult = { user: found.user, ...deps.tokens.sign(username) };
    res.status(200).json(body);
  });

  return router;
}
