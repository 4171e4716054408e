import {
  PASSWORD_MAX,
  PASSWORD_MIN,
  RateLimitedError,
  UnauthenticatedError,
  authResultSchema,
  credentialsSchema,
  type AuthResult,
} from '@chat/contracts';
import { defineRoute } from './route-definition.js';
import { clientAddress } from '../http/rate-limit.js';
import { BAD_BODY } from '../openapi/route-errors.js';

/** Register and log in; app.ts mounts them only when this api signs tokens. */
export const authRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/auth/register',
    operationId: 'register',
    tag: 'auth',
    summary: 'Create a user and get a token',
    description: `Usernames match \`^[a-z0-9_.-]{2,32}$\`; passwords are ${PASSWORD_MIN}..${PASSWORD_MAX} characters.`,
    access: 'sign-in',
    body: credentialsSchema,
    success: { status: 201, description: 'The user was created.', body: authResultSchema },
    errors: { 400: `${BAD_BODY} A bad username is \`invalid_request\` too.`, 409: 'The username is taken.' },
    async handle({ res, body: { username, password } }, deps) {
      const hash = await deps.passwords.hash(password);
      const user = await deps.users.create(username, hash, new Date().toISOString());
      const answer: AuthResult = { user, ...deps.tokens.sign(username) };
      res.status(201).json(answer);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/auth/login',
    operationId: 'login',
    tag: 'auth',
    summary: 'Get a token for an existing user',
    access: 'sign-in',
    body: credentialsSchema,
    success: { status: 200, description: 'The password matched.', body: authResultSchema },
    errors: {
      401: 'Wrong username or password (one answer for both, so logins do not reveal who exists).',
      429:
        'Too many register/login requests from this client address (RATE_LIMIT_AUTH_PER_IP), or too many failed logins ' +
        'from it: for this username (RATE_LIMIT_LOGIN_FAILURES_PER_USERNAME_IP, reset by a success) or in all ' +
        '(RATE_LIMIT_LOGIN_FAILURES_PER_IP). Failures elsewhere never refuse this address. `Retry-After` says when to try again.',
    },
    async handle({ req, res, body: { username, password } }, deps) {
      // Counted as a failure before the password is checked, and forgiven when it matches.
      const attempt = await deps.loginFailures.admit(username, clientAddress(req));
      if (!attempt.allowed) throw new RateLimitedError('too many failed logins; try again later', attempt.retryAfterSeconds);
      const found = await deps.users.find(username);
      const ok = found
        ? await deps.passwords.verify(password, found.passwordHash)
        : await deps.passwords.verifyAgainstDecoy(password);
      // One answer for "no such user" and "wrong password", so logins do not reveal who exists.
      if (!found || !ok) throw new UnauthenticatedError('wrong username or password');
      await attempt.succeeded();
      const answer: AuthResult = { user: found.user, ...deps.tokens.sign(username) };
      res.status(200).json(answer);
    },
  }),
];
