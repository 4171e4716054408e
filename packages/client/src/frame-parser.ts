import { ChatConnectionError } from './errors.js';
import type { MessageFrame, MessageUpdatedFrame, ReadyFrame, ResumedFrame, Summary } from './types.js';

/** A server frame the connection acts on, read defensively (the gateway may be newer or broken). */
export type InboundFrame = ReadyFrame | MessageFrame | MessageUpdatedFrame | (ResumedFrame & { conversations: string[] });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
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
      return { type: 'ready', user: String(frame.user), epoch: String(frame.epoch) };
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
    default:
      return undefined;
  }
}
