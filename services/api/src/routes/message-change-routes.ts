import { MESSAGE_TEXT_MAX, editMessageSchema, messageSchema, messageSeqParamSchema } from '@chat/contracts';
import { currentUser } from '../http/authenticate.js';
import { BAD_BODY } from '../openapi/route-errors.js';
import { NOT_A_MEMBER, conversationIdParam } from './conversation-id-param.js';
import { defineRoute, type RouteDeps } from './route-definition.js';

/** `{id}` and `{seq}` of a message of a conversation. */
const messageParams = {
  ...conversationIdParam,
  seq: { schema: messageSeqParamSchema, what: 'seq', description: 'The message\'s `seq` in the conversation.' },
};

const ERRORS = {
  403: 'The message is another member\'s: only its author may change it. Nothing changed.',
  404: `${NOT_A_MEMBER} Also when no message has this seq.`,
  503:
    'Redis is unreachable, or the api sheds load as it does for new messages (then with `Retry-After`): a change is delivered like a message. ' +
    'Nothing changed; retry later.',
} as const;

/** A change owes a delivery like a message: refused (503, nothing changed) while the api sheds new messages. */
function admitDelivery(deps: RouteDeps): void {
  deps.intake.admit();
  deps.backlog.admit();
}

const DELIVERED =
  'Every member\'s live sockets receive the new version as a `message_updated` frame, in `rev` order with the conversation\'s other frames.';

export const messageChangeRoutes = [
  defineRoute({
    method: 'patch',
    path: '/api/conversations/{id}/messages/{seq}',
    operationId: 'editMessage',
    tag: 'messages',
    summary: 'Edit one of your messages (its author only)',
    description: `The new \`text\` is 1..${MESSAGE_TEXT_MAX} characters. The message gets \`editedAt\` and the conversation's next \`rev\`. ${DELIVERED}`,
    access: 'user',
    params: messageParams,
    body: editMessageSchema,
    success: { status: 200, description: 'The message as it now stands.', body: messageSchema },
    errors: { 400: `${BAD_BODY} Also when the id or the seq is malformed.`, ...ERRORS, 409: 'The message was deleted: a tombstone cannot be edited.' },
    async handle({ req, res, params, body }, deps) {
      admitDelivery(deps);
      const { message, drain } = await deps.messages.change(params.id, params.seq, currentUser(req), { text: body.text });
      // Stored with its outbox entry: it will be delivered even if this enqueue fails.
      if (drain) await deps.deliveries.enqueue(drain, req.log);
      res.status(200).json(message);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/conversations/{id}/messages/{seq}',
    operationId: 'deleteMessage',
    tag: 'messages',
    summary: 'Delete one of your messages (its author only)',
    description:
      `The message stays in history as a tombstone: \`text\` is \`""\`, \`deletedAt\` is set, and it gets the conversation's next \`rev\`. ${DELIVERED} ` +
      'Deleting a tombstone again answers it unchanged (no new `rev`, no frame).',
    access: 'user',
    params: messageParams,
    success: { status: 200, description: 'The tombstone.', body: messageSchema },
    errors: { 400: 'The id or the seq is malformed.', ...ERRORS },
    async handle({ req, res, params }, deps) {
      admitDelivery(deps);
      const { message, drain } = await deps.messages.change(params.id, params.seq, currentUser(req), 'delete');
      if (drain) await deps.deliveries.enqueue(drain, req.log);
      res.status(200).json(message);
    },
  }),
];
