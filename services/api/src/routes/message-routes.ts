import { Router, type RequestHandler } from 'express';
import {
  PAGE_LIMIT_DEFAULT,
  conversationIdParamSchema,
  listMessagesQuerySchema,
  postMessageSchema,
} from '@chat/contracts';
import type { MessageStore, RateLimit, RateLimiter } from '@chat/store';
import type { Counter } from '@chat/metrics';
import { validate } from '../http/validate.js';
import { currentUser } from '../http/authenticate.js';
import type { DeliveryEnqueuer } from '../delivery/delivery-enqueuer.js';

export interface MessageRoutesDeps {
  messages: MessageStore;
  deliveries: DeliveryEnqueuer;
  accepted: Counter;
}

/** GET a conversation's history page (behind the router-wide authentication and per-user limit). */
export function messageRoutes(deps: Pick<MessageRoutesDeps, 'messages'>): Router {
  const router = Router();

  router.get('/conversations/:id/messages', async (req, res) => {
    const id = validate(conversationIdParamSchema, req.params.id, 'conversation id');
    const query = validate(listMessagesQuerySchema, req.query, 'query');
    const page = await deps.messages.page(id, currentUser(req), query.after ?? 0, query.limit ?? PAGE_LIMIT_DEFAULT);
    // The stored JSON goes out as it is: no parse and re-encode per message.
    res.type('application/json').send(`{"items":[${page.raw.join(',')}],"nextAfter":${page.nextAfter ?? 'null'}}`);
  });

  return router;
}

/**
 * POST a message: the hottest route. It authenticates itself and counts the per-user rate limit
 * inside the script that stores the message, instead of in a round trip of its own before it, so
 * the app mounts it ahead of the router-wide limiter. A request refused as invalid (400) is not
 * counted; one refused for membership (404) is.
 */
export function postMessageRoute(deps: MessageRoutesDeps & { authenticate: RequestHandler; perUser: RateLimit; limiter: RateLimiter }): Router {
  const router = Router();

  router.post('/conversations/:id/messages', deps.authenticate, async (req, res) => {
    const id = validate(conversationIdParamSchema, req.params.id, 'conversation id');
    const { text } = validate(postMessageSchema, req.body, 'body');
    const author = currentUser(req);
    const { message, job } = await deps.messages.append(id, author, text, deps.limiter.charge(deps.perUser, author));
    deps.accepted.inc();
    // Stored and in the outbox: the message will be delivered even if this enqueue fails.
    await deps.deliveries.enqueue(job, req.log);
    res.status(201).json(message);
  });

  return router;
}
