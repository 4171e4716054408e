import { PRESENCE_QUERY_MAX, presenceListSchema, presenceQuerySchema } from '@chat/contracts';
import { currentUser } from '../http/authenticate.js';
import { defineRoute } from './route-definition.js';

/** Who is online, among those the caller shares a conversation with (presence-store.ts). */
export const presenceRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/presence',
    operationId: 'getPresence',
    tag: 'users',
    summary: 'Whether users who share a conversation with the caller are online',
    description:
      'Answers for the listed users who share a conversation with the caller, and for the caller when listed; ' +
      'anyone else, and unknown names, are left out. Live changes come as `presence` frames on the WebSocket.',
    access: 'user',
    query: {
      schema: presenceQuerySchema,
      descriptions: { users: `Comma-separated usernames, 1 to ${PRESENCE_QUERY_MAX}.` },
    },
    success: { status: 200, description: 'Their presence, in the order asked.', body: presenceListSchema },
    errors: {
      400: `\`users\` is missing, empty, lists more than ${PRESENCE_QUERY_MAX} names, or a malformed one (or another parameter is given).`,
    },
    async handle({ req, res, query }, deps) {
      res.json({ items: await deps.presence.read(currentUser(req), query.users) });
    },
  }),
];
