import { Router } from 'express';
import { NotFoundError } from '@chat/contracts';
import type { UserStore } from '@chat/store';
import { currentUser } from '../http/authenticate.js';

/** The caller's own account. Mounted behind `authenticate`. */
export function userRoutes(deps: { users: UserStore }): Router {
  const router = Router();

  router.get('/me', async (req, res) => {
    const found = await deps.users.find(currentUser(req));
    // A valid token for a user with no account (an external identity provider's): nothing to show.
    if (!found) throw new NotFoundError('no such user');
    res.json(found.user);
  });

  return router;
}
