import {
  MESSAGE_TEXT_MAX,
  PAGE_LIMIT_DEFAULT,
  PAGE_LIMIT_MAX,
  SEQ_PARAM_MAX,
  listMessagesQuerySchema,
  messagePageBeforeSchema,
  messagePageSchema,
  messageSchema,
  postMessageSchema,
} from '@chat/contracts';
import { currentUser } from '../http/authenticate.js';
import { BAD_BODY } from '../openapi/route-errors.js';
import { NOT_A_MEMBER, conversationIdParam } from './conversation-id-param.js';
import { defineRoute } from './route-definition.js';

export const messageRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/conversations/{id}/messages',
    operationId: 'listMessages',
    tag: 'messages',
    summary: 'A page of history (members only)',
    description:
      "Messages in ascending `seq`. Forwards: to read everything, start without `after` and pass each page's `nextAfter` until it is null. " +
      "Backwards (newest first): start with `before` above the last seq (e.g. " +
      `${SEQ_PARAM_MAX}) for the newest page and pass each page's \`nextBefore\` until it is null.`,
    access: 'user',
    params: conversationIdParam,
    query: {
      schema: listMessagesQuerySchema,
      descriptions: {
        after: 'Only messages with a `seq` greater than this (default 0: from the start). The answer is a MessagePage.',
        before:
          'Only the newest messages with a `seq` less than this (at least 1; above the last seq: the newest page). ' +
          'The answer is a MessagePageBefore. Not together with `after`.',
        limit: `At most this many messages, 1..${PAGE_LIMIT_MAX} (default ${PAGE_LIMIT_DEFAULT}).`,
      },
    },
    success: { status: 200, description: 'The page: a MessagePage, or with `before` a MessagePageBefore.', body: [messagePageSchema, messagePageBeforeSchema] },
    errors: {
      400: 'The id or the query string is not valid (unknown parameter, not a number, limit out of range, `before` 0 or with `after`).',
      404: NOT_A_MEMBER,
    },
    async handle({ req, res, params, query }, deps) {
      const limit = query.limit ?? PAGE_LIMIT_DEFAULT;
      // The stored JSON goes out as it is: no parse and re-encode per message.
      res.type('application/json');
      if (query.before !== undefined) {
        const page = await deps.messages.pageBefore(params.id, currentUser(req), query.before, limit);
        res.send(`{"items":[${page.raw.join(',')}],"nextBefore":${page.nextBefore ?? 'null'}}`);
        return;
      }
      const page = await deps.messages.page(params.id, currentUser(req), query.after ?? 0, limit);
      res.send(`{"items":[${page.raw.join(',')}],"nextAfter":${page.nextAfter ?? 'null'}}`);
    },
  }),
  // The hottest route: see `user-counted-in-script`. A request refused as invalid (400) is not
  // counted; one refused for membership (404) is.
  defineRoute({
    method: 'post',
    path: '/api/conversations/{id}/messages',
    operationId: 'postMessage',
    tag: 'messages',
    summary: 'Send a message (members only)',
    description:
      `\`text\` is 1..${MESSAGE_TEXT_MAX} characters. A 201 means the message is stored and will reach every member's live sockets. ` +
      'With `clientId`, a retry is safe: a repeat of it by the same author in the same conversation within 24 hours answers 200 with the ' +
      'message stored the first time, and stores and delivers nothing; concurrent repeats store one message.',
    access: 'user-counted-in-script',
    params: conversationIdParam,
    body: postMessageSchema,
    success: {
      status: 201,
      description: 'The message was stored, with its `seq`.',
      body: messageSchema,
      also: { status: 200, description: 'A repeated `clientId`: the message as stored the first time; nothing new was stored or delivered.' },
    },
    errors: {
      400: `${BAD_BODY} Also when the id is malformed.`,
      404: NOT_A_MEMBER,
      409: 'The `clientId` was sent before with another `text` (or its message is no longer stored). Nothing was stored.',
      503:
        'Redis is unreachable, or the api sheds load (then with `Retry-After`): its event loop runs late (MAX_EVENT_LOOP_DELAY_MS) or more messages wait for delivery than MAX_DELIVERY_BACKLOG. ' +
        'Nothing was stored; retry later.',
    },
    async handle({ req, res, params, body }, deps) {
      // Before anything is stored or charged: a refused message leaves no trace.
      deps.intake.admit();
      deps.backlog.admit();
      const author = currentUser(req);
      const { message, drain, repeated } = await deps.messages.append(
        params.id,
        author,
        body.text,
        deps.limiter.charge(deps.perUser, author),
        body.clientId,
      );
      // A repeat stored nothing: the first POST's answer again, with 200 rather than 201.
      if (repeated) {
        res.status(200).json(message);
        return;
      }
      deps.accepted.inc();
      // Stored and in the outbox: the message will be delivered even if this enqueue fails. No
      // drain means one is already pending for its partition and will carry it.
      if (drain) await deps.deliveries.enqueue(drain, req.log);
      res.status(201).json(message);
    },
  }),
];
