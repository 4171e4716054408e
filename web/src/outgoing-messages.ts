import { MessageOutbox, type ChatApi, type ChatApiError, type Message, type OutboxMessage, type Summary } from '@chat/client';
import type { Composer } from './composer.js';
import type { MessageLogScroll } from './message-log-scroll.js';
import type { OpenConversation } from './open-conversation.js';

export interface OutgoingMessagesDeps {
  api: Pick<ChatApi, 'postMessage'>;
  /** The open conversation: where a message is sent from, and where a refusal is shown. */
  current: Pick<OpenConversation, 'id' | 'sendError'>;
  composer: Pick<Composer, 'take' | 'giveBack'>;
  scroll: Pick<MessageLogScroll, 'scrollToBottom'>;
  /** Aborted when the screen ends: answers after it are dropped. */
  signal: AbortSignal;
  /** One of ours was stored: the list and the conversation's history take it. */
  stored: (id: string, message: Message | Summary) => void;
  /** Every REST failure goes through here (an expired token ends the session); returns what to show. */
  failed: (error: unknown) => string;
  /** What is pending, or the send error, changed. */
  onChange: () => void;
}

/**
 * Sends what the composer holds through the SDK's MessageOutbox (each message once, in order,
 * retrying while offline: wire 1.1 clientId) and keeps the pending copies the log shows until the
 * stored ones replace them. It exists so the screen only says when a message is sent, the
 * connection is back or a message arrives live; a refusal for good goes back to the composer with
 * its reason here.
 */
export class OutgoingMessages {
  private readonly outbox: MessageOutbox;

  constructor(private readonly deps: OutgoingMessagesDeps) {
    this.outbox = new MessageOutbox({ api: deps.api });
  }

  /** Follows the outbox's events; returns the undo, which also stops its retries. */
  listen(): () => void {
    const offs = [
      this.outbox.on('sent', (pending, message) => this.onSent(pending.conversationId, message)),
      this.outbox.on('failed', (pending, error) => this.onSendFailed(pending, error)),
      this.outbox.on('change', () => this.deps.onChange()),
      () => this.outbox.close(),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /** Sends the composer's text to the open conversation. */
  sendTyped(): void {
    const { current, scroll } = this.deps;
    const id = current.id;
    if (id === undefined) return;
    const text = this.deps.composer.take();
    if (text === '') return;
    current.sendError = undefined;
    this.outbox.send(id, text);
    if (id === current.id) scroll.scrollToBottom();
    this.deps.onChange();
  }

  /** The connection is back: what waits can go now. */
  flush(): void {
    this.outbox.flush();
  }

  /** A message arrived live: one of ours still pending is settled by it (no second bubble). */
  delivered(message: Summary): void {
    this.outbox.delivered(message);
  }

  /** Messages of conversation `id` not confirmed yet, in the order sent (none when nothing is open). */
  pending(id: string | undefined): OutboxMessage[] {
    return id === undefined ? [] : this.outbox.pending(id);
  }

  private onSent(id: string, message: Message | Summary): void {
    if (this.deps.signal.aborted) return;
    this.deps.stored(id, message);
    if (id === this.deps.current.id) this.deps.scroll.scrollToBottom();
    this.deps.onChange();
  }

  /** Refused for good (not a network problem: those wait in the outbox). */
  private onSendFailed(pending: OutboxMessage, error: ChatApiError): void {
    const reason = this.deps.failed(error);
    if (this.deps.signal.aborted || pending.conversationId !== this.deps.current.id) return;
    this.deps.current.sendError = reason;
    this.deps.onChange();
    this.deps.composer.giveBack(pending.text);
  }
}
