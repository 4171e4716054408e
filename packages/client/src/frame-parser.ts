import { ChatConnectionError } from './errors.js';
import type {
  Conversation,
  ConversationFrame,
  MessageFrame,
  MessageUpdatedFrame,
  PresenceFrame,
  ReadFrame,
  ReadyFrame,
  ResumedFrame,
  Summary,
  TypingFrame,
} from './types.js';

/** A server frame the connection acts on, read defensively (the gateway may be newer or broken). */
export type InboundFrame =
  | ReadyFrame
  | MessageFrame
  | MessageUpdatedFrame
  | (ResumedFrame & { conversations: string[] })
  | ReadFrame
  | ConversationFrame
  | TypingFrame
  | PresenceFrame;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isSeq(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function isConversation(value: unknown): value is Conversation {
  return isObject(value) && typeof value.id === 'string' && typeof value.title === 'string' && Array.isArray(value.users);
}

function parseConversationFrame(frame: Record<string, unknown>): ConversationFrame | ChatConnectionError | undefined {
  const { event, data } = frame;
  if (event === 'removed' && isObject(data) && typeof data.id === 'string') return { type: 'conversation', event, data: { id: data.id } };
  if ((event === 'added' || event === 'updated') && isConversation(data)) return { type: 'conversation', event, data };
  // An event of a later version: nothing to do.
  if (event !== 'added' && event !== 'updated' && event !== 'removed') return undefined;
  return new ChatConnectionError('invalid_frame', 'the gateway sent a malformed conversation frame');
}

function isSummary(value: unknown): value is Summary {
  return (
    isObject(value) &&
    typeof value.conversationId === 'string' &&
    typeof value.seq === 'number' &&
    Number.isSafeInteger(value.seq) &&
    value.seq >= 1
  );
}

/**
 * Reads one WebSocket frame from the gateway: the frame to act on; a ChatConnectionError for an
 * `error` frame or for something unreadable (to report, the connection carries on); undefined for
 * a frame with nothing to do (`pong`, or a type from a later version of the contract).
 */
export function parseServerFrame(data: unknown): InboundFrame | ChatConnectionError | undefined {
  if (typeof data !== 'string') return new ChatConnectionError('invalid_frame', 'the gateway sent a binary frame');
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch (error) {
    return new ChatConnectionError('invalid_frame', 'the gateway sent a frame that is not JSON', { cause: error });
  }
  if (!isObject(frame)) return new ChatConnectionError('invalid_frame', 'the gateway sent a frame that is not an object');
  switch (frame.type) {
    case 'ready':
      return {
        type: 'ready',
        user: String(frame.user),
        epoch: String(frame.epoch),
        ...(typeof frame.protocol === 'string' ? { protocol: frame.protocol } : {}),
      };
    case 'message':
      if (isSummary(frame.data)) return { type: 'message', data: frame.data };
      return new ChatConnectionError('invalid_frame', 'the gateway sent a malformed message frame');
    case 'message_updated':
      if (isSummary(frame.data)) return { type: 'message_updated', data: frame.data };
      return new ChatConnectionError('invalid_frame', 'the gateway sent a malformed message_updated frame');
    case 'resumed':
      return {
        type: 'resumed',
        recovered: frame.recovered === true,
        conversations: Array.isArray(frame.conversations) ? frame.conversations.map(String) : [],
      };
    case 'error':
      return new ChatConnectionError(String(frame.code), String(frame.message));
    case 'read':
      if (typeof frame.conversationId === 'string' && isSeq(frame.seq, 0)) return { type: 'read', conversationId: frame.conversationId, seq: frame.seq };
      return new ChatConnectionError('invalid_frame', 'the gateway sent a malformed read frame');
    case 'conversation':
      return parseConversationFrame(frame);
    case 'typing':
      if (typeof frame.conversationId === 'string' && typeof frame.user === 'string') {
        return { type: 'typing', conversationId: frame.conversationId, user: frame.user };
      }
      return new ChatConnectionError('invalid_frame', 'the gateway sent a malformed typing frame');
    case 'presence':
      if (typeof frame.user === 'string' && typeof frame.online === 'boolean' && typeof frame.lastSeen === 'string' && !Number.isNaN(Date.parse(frame.lastSeen))) {
        return { type: 'presence', user: frame.user, online: frame.online, lastSeen: frame.lastSeen };
      }
      return new ChatConnectionError('invalid_frame', 'the gateway sent a malformed presence frame');
    default:
      return undefined;
  }
}
