import { Router } from 'express';
import {
  PAGE_LIMIT_DEFAULT,
  conversationIdParamSchema,
  listMessagesQuerySchema,
  postMessageSchema,
} from '@chat/contracts';
import type { MessageStore } from '@chat/store';
import type { Counter } from '@chat/metrics';
import { validate } from '../http/validate.js';
import { currentUser } from '../http/authenticate.js';
import type { DeliveryEnqueuer } from '../delivery/delivery-enqueuer.js';

export interface MessageRoutesDeps {
  messages: MessageStore;
  deliveries: DeliveryEnqueuer;
  accepted: Counter;
}

export function messageRoutes(deps: MessageRoutesDeps): Router {
  const router = Router();

  router.get('/conversations/:id/messages', async (req, res) => {
    const id = validate(conversationIdParamSchema, req.params.id, 'conversation id');
    const query = validate(listMessagesQuerySchema, req.query, 'query');
    const page = await deps.messages.page(id, currentUser(req), query.after ?? 0, query.limit ?? PAGE_LIMIT_DEFAULT);
    // The stored JSON goes out as it is: no parse and re-encode per message.
    res.type('application/json').send(`{"items":[${page.raw.join(',')}],"nextAfter":${page.nextAfter ?? 'null'}}`);
  });

  router.post('/conversations/:id/messages', async (req, res) => {
    const id = validate(conversationIdParamSchema, req.params.id, 'conversation id');
    const { text } = validate(postMessageSchema, req.body, 'body');
    const { message, job } = await deps.messages.append(id, currentUser(req), text);
    deps.accepted.inc();
    // Stored and in the outbox: the message will be delivered even if this enqueue fails.
    await deps.deliveries.enqueue(job, req.log);
    res.status(201).json(message);
  });

  return router;
}
