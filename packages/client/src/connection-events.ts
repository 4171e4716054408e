import type { ChatClientError } from './errors.js';
import type { Conversation, PresenceFrame, Summary, TypingFrame } from './types.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ReadyInfo {
  /** The username the gateway authenticated. */
  user: string;
  /** The store epoch; cursors are only meaningful within one. */
  epoch: string;
  /** The gateway URL this socket is connected to. */
  url: string;
  /** The contract version beyond 1 the gateway speaks (`1.1`); undefined: version 1 only. */
  protocol: string | undefined;
}

/** A change of the user's conversations (wire 1.1 `conversation` frame). */
export type ConversationEvent =
  | { event: 'added' | 'updated'; conversation: Conversation }
  | { event: 'removed'; conversationId: string };

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
  /**
   * An edit or deletion (1.1) of a message already delivered, in `rev` order with the messages:
   * the message as it now stands (a deletion: `text` "", `deletedAt` set).
   */
  messageUpdated: [message: Summary];
  state: [state: ConnectionState, previous: ConnectionState];
  /**
   * The user's read cursor in a conversation moved (on any of their devices): `seq` is where it
   * stands now (wire 1.1).
   */
  read: [conversationId: string, seq: number];
  /**
   * The user was added to a conversation (before any of its messages), it changed (title,
   * members), or they were removed or left (nothing of it follows; the SDK forgets its cursor).
   */
  conversation: [change: ConversationEvent];
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
