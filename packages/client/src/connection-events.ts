import type { ChatClientError } from './errors.js';
import type { PresenceFrame, Summary, TypingFrame } from './types.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ReadyInfo {
  /** The username the gateway authenticated. */
  user: string;
  /** The store epoch; cursors are only meaningful within one. */
  epoch: string;
  /** The gateway URL this socket is connected to. */
  url: string;
}

export interface ResumedInfo {
  /** False when some conversations could not be replayed (see `conversations` and `recoveryFailed`). */
  recovered: boolean;
  conversations: string[];
}

export interface DisconnectInfo {
  /** The WebSocket close code (1006 when the connection dropped or never opened). */
  code: number;
  reason: string;
  url: string;
  willReconnect: boolean;
  /** When willReconnect: how long until the next attempt. */
  delayMs?: number;
}

/** What a ChatConnection emits: event name → its listeners' arguments. */
export type ChatConnectionEvents = {
  /** A message, in seq order per conversation, once per (conversationId, seq). */
  message: [message: Summary];
  state: [state: ConnectionState, previous: ConnectionState];
  /** A socket was accepted and registered (after every connect and reconnect). */
  ready: [info: ReadyInfo];
  /** The gateway has replayed everything the cursors missed. */
  resumed: [info: ResumedInfo];
  /** These conversations have messages the SDK could not deliver: reload them over REST, then `track` them. */
  recoveryFailed: [conversationIds: string[]];
  /** A socket closed (or was given up); `willReconnect` says what happens next. */
  disconnect: [info: DisconnectInfo];
  /** Another member is typing in a conversation (ephemeral: not replayed after a reconnect). */
  typing: [typing: Omit<TypingFrame, 'type'>];
  /**
   * A user who shares a conversation with this one came online or went offline (stale frames are
   * dropped). Not sent for who is online already: ask `ChatApi.getPresence` after `ready`.
   */
  presence: [presence: Omit<PresenceFrame, 'type'>];
  /** Something went wrong that the app may want to know about; the connection carries on unless `state` says otherwise. */
  error: [error: ChatClientError];
};
