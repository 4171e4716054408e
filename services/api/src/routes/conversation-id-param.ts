import { conversationIdParamSchema } from '@chat/contracts';
import type { PathParam } from './route-definition.js';

/** The `{id}` of every /api/conversations/{id} route. */
export const conversationIdParam = {
  id: {
    schema: conversationIdParamSchema,
    what: 'conversation id',
    description: 'A conversation id, as returned when it was created.',
  },
} satisfies Record<string, PathParam>;

export const NOT_A_MEMBER = 'No such conversation for this user: non-members get 404, never the data.';
