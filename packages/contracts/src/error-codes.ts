/**
 * Every `code` of an error body (REST) or an `error` frame (WebSocket). No zod and no imports: the
 * SDK ships it (`@chat/contracts/error-codes`). A client branches on these, never on the message.
 */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
