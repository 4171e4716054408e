import { Router } from 'express';
import {
  InvalidRequestError,
  conversationIdParamSchema,
  createConversationSchema,
  updateConversationSchema,
} from '@chat/contracts';
import type { ConversationStore, UserStore } from '@chat/store';
import { validate } from '../http/validate.js';
import { currentUser } from '../http/authenticate.js';

export interface ConversationRoutesDeps {
  users: UserStore;
  conversations: ConversationStore;
}

export function conversationRoutes(deps: ConversationRoutesDeps): Router {
  const router = Router();

  async function requireExistingUsers(usernames: readonly string[]): Promise<void> {
    const missing = await deps.users.missing([...new Set(usernames)]);
    if (missing.length > 0) throw new InvalidRequestError(`no such user(s): ${missing.slice(0, 10).join(', ')}`);
  }

  router.get('/conversations', async (req, res) => {
    res.json({ items: await deps.conversations.listFor(currentUser(req)) });
  });

  router.post('/conversations', async (req, res) => {
    const body = validate(createConversationSchema, req.body, 'body');
    await requireExistingUsers(body.users);
    const conversation = await deps.conversations.create({ title: body.title, createdBy: currentUser(req), users: body.users });
    res.status(201).json(conversation);
  });

  router.get('/conversations/:id', async (req, res) => {
    const id = validate(conversationIdParamSchema, req.params.id, 'conversation id');
    res.json(await deps.conversations.require(id, currentUser(req)));
  });

  router.patch('/conversations/:id', async (req, res) => {
    const id = validate(conversationIdParamSchema, req.params.id, 'conversation id');
    const body = validate(updateConversationSchema, req.body, 'body');
    const caller = currentUser(req);
    // Membership first, so a non-member learns nothing (not even which usernames exist).
    await deps.conversations.require(id, caller);
    if (body.users) await requireExistingUsers(body.users);
    res.json(await deps.conversations.update(id, caller, body));
  });

  return router;
}
