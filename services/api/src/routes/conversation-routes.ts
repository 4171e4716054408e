import {
  InvalidRequestError,
  conversationListSchema,
  conversationSchema,
  createConversationSchema,
  emptyBodySchema,
  listConversationsQuerySchema,
  markReadSchema,
  readStateSchema,
  updateConversationSchema,
} from '@chat/contracts';
import type { UserStore } from '@chat/store';
import { currentUser } from '../http/authenticate.js';
import { BAD_BODY } from '../openapi/route-errors.js';
import { NOT_A_MEMBER, conversationIdParam } from './conversation-id-param.js';
import { defineRoute } from './route-definition.js';

async function requireExistingUsers(users: UserStore, usernames: readonly string[]): Promise<void> {
  const missing = await users.missing([...new Set(usernames)]);
  if (missing.length > 0) throw new InvalidRequestError(`no such user(s): ${missing.slice(0, 10).join(', ')}`);
}

export const conversationRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/conversations',
    operationId: 'listConversations',
    tag: 'conversations',
    summary: "The caller's conversations",
    description: 'Each with its `lastSeq`, `lastMessageAt` and the caller\'s `readSeq` and `unread`.',
    access: 'user',
    query: {
      schema: listConversationsQuerySchema,
      descriptions: {
        order: '`activity`: newest `lastMessageAt` (else `createdAt`) first, ties by ascending `id`. Without it: oldest `createdAt` first.',
      },
    },
    success: {
      status: 200,
      description: 'Every conversation the caller is a member of, oldest `createdAt` first or, with `order=activity`, by activity.',
      body: conversationListSchema,
    },
    errors: { 400: 'The query string is not valid (unknown parameter, an `order` other than `activity`).' },
    async handle({ req, res, query }, deps) {
      res.json({ items: await deps.conversations.listFor(currentUser(req), query.order === 'activity' ? 'activity' : 'created') });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/conversations',
    operationId: 'createConversation',
    tag: 'conversations',
    summary: 'Start a conversation',
    description: 'The creator is always a member, whether listed in `users` or not.',
    access: 'user',
    body: createConversationSchema,
    success: { status: 201, description: 'The conversation was created.', body: conversationSchema },
    errors: { 400: `${BAD_BODY} Also when a listed user does not exist.` },
    async handle({ req, res, body }, deps) {
      await requireExistingUsers(deps.users, body.users);
      const conversation = await deps.conversations.create({ title: body.title, createdBy: currentUser(req), users: body.users });
      res.status(201).json(conversation);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/conversations/{id}',
    operationId: 'getConversation',
    tag: 'conversations',
    summary: 'One conversation (members only)',
    access: 'user',
    params: conversationIdParam,
    success: { status: 200, description: 'The conversation.', body: conversationSchema },
    errors: { 400: 'The id is not a valid conversation id.', 404: NOT_A_MEMBER },
    async handle({ req, res, params }, deps) {
      res.json(await deps.conversations.require(params.id, currentUser(req)));
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/api/conversations/{id}',
    operationId: 'updateConversation',
    tag: 'conversations',
    summary: 'Rename a conversation or change its members (members only)',
    description: 'Give `title`, `users` or both. `users` replaces the member list; the caller always stays a member.',
    access: 'user',
    params: conversationIdParam,
    body: updateConversationSchema,
    success: { status: 200, description: 'The conversation as it is now.', body: conversationSchema },
    errors: {
      400: `${BAD_BODY} Also when neither field is given, the id is malformed, or a listed user does not exist.`,
      404: NOT_A_MEMBER,
    },
    async handle({ req, res, params: { id }, body }, deps) {
      const caller = currentUser(req);
      // Membership first, so a non-member learns nothing (not even which usernames exist).
      await deps.conversations.require(id, caller);
      if (body.users) await requireExistingUsers(deps.users, body.users);
      res.json(await deps.conversations.update(id, caller, body));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/conversations/{id}/leave',
    operationId: 'leaveConversation',
    tag: 'conversations',
    summary: 'Leave a conversation (members only)',
    description:
      'Anyone may leave, the creator too (`createdBy` stays). From then on the caller gets 404 for it and no frame of it. ' +
      'When the last member leaves, the conversation and its history are deleted. Needs no body.',
    access: 'user',
    params: conversationIdParam,
    body: emptyBodySchema,
    bodyRequired: false,
    success: { status: 204, description: 'The caller is no longer a member.' },
    errors: {
      400: `${BAD_BODY} Also when the id is malformed.`,
      404: NOT_A_MEMBER,
    },
    async handle({ req, res, params }, deps) {
      await deps.conversations.leave(params.id, currentUser(req));
      res.status(204).end();
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/conversations/{id}/read',
    operationId: 'markConversationRead',
    tag: 'conversations',
    summary: "Move the caller's read cursor forward (members only)",
    description:
      'A lower `seq` than the cursor leaves it where it is. When the cursor moved, every socket of the caller, on every device, ' +
      'receives a `read` frame.',
    access: 'user',
    params: conversationIdParam,
    body: markReadSchema,
    success: { status: 200, description: "The caller's read state as it now stands.", body: readStateSchema },
    errors: {
      400: `${BAD_BODY} Also when the id is malformed, or \`seq\` is above the conversation's \`lastSeq\` (nothing changes then).`,
      404: NOT_A_MEMBER,
    },
    async handle({ req, res, params, body }, deps) {
      res.json(await deps.conversations.markRead(params.id, currentUser(req), body.seq));
    },
  }),
];
