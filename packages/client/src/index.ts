export { ChatApi, PAGE_SIZE_MAX } from './chat-api.js';
export type {
  ChatApiOptions,
  FetchLike,
  FetchResponseLike,
  ListConversationsOptions,
  ListMessagesBeforeOptions,
  ListMessagesOptions,
  MessageRangeOptions,
  PostMessageOptions,
  RequestOptions,
} from './chat-api.js';
export { MessageOutbox } from './message-outbox.js';
export type { MessageOutboxEvents, MessageOutboxOptions, OutboxMessage } from './message-outbox.js';
export { newClientId } from './client-id.js';
export { ChatConnection } from './chat-connection.js';
export type {
  ChatConnectionEvents,
  ChatConnectionOptions,
  ConnectionState,
  ConversationEvent,
  DisconnectInfo,
  MessageRangeReader,
  ReadyInfo,
  ResumedInfo,
} from './chat-connection.js';
export { CloseCode } from './close-codes.js';
export { ChatApiError, ChatClientError, ChatConnectionError, ChatNetworkError } from './errors.js';
export { backoffDelayMs } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { tokenExpiresAtMs } from './token-source.js';
export type { TokenSource } from './token-source.js';
export { TypedEmitter } from './typed-emitter.js';
export type { EventMap, Listener } from './typed-emitter.js';
export type { SocketEventLike, WebSocketConstructor, WebSocketLike } from './websocket-like.js';
export type * from './types.js';
export { PRESENCE_QUERY_MAX, RESUME_CURSORS_MAX, TYPING_THROTTLE_MS } from './types.js';
