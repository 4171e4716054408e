import { NotFoundError, userSchema } from '@chat/contracts';
import { currentUser } from '../http/authenticate.js';
import { defineRoute } from './route-definition.js';

/** The caller's own account. */
export const userRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/me',
    operationId: 'getMe',
    tag: 'users',
    summary: 'The user the token belongs to',
    access: 'user',
    success: { status: 200, description: 'The caller.', body: userSchema },
    errors: {
      404: 'The token is valid but its user has no account here (a token from an external identity provider, or a deleted user).',
    },
    async handle({ req, res }, deps) {
      const found = await deps.users.find(currentUser(req));
      // A valid token for a user with no account (an external identity provider's): nothing to show.
      if (!found) throw new NotFoundError('no such user');
      res.json(found.user);
    },
  }),
];
