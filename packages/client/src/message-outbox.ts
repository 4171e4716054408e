import { backoffDelayMs, type BackoffOptions } from './backoff.js';
import type { ChatApi } from './chat-api.js';
import { newClientId } from './client-id.js';
import { ChatApiError, type ChatClientError } from './errors.js';
import { TypedEmitter } from './typed-emitter.js';
import type { Message, Summary } from './types.js';

/** A message the app sent that the server has not confirmed yet. */
export interface OutboxMessage {
  /** Sent with every attempt: the server stores it once however often it arrives. */
  readonly clientId: string;
  readonly conversationId: string;
  readonly text: string;
  /** Attempts made so far. */
  attempts: number;
  /** Why the last attempt did not get an answer (the outbox tries again). */
  lastError: ChatClientError | undefined;
}

export type MessageOutboxEvents = {
  /** Stored (the POST's answer, or its live delivery came first): replace the pending copy by `message`. */
  sent: [pending: OutboxMessage, message: Message | Summary];
  /** Refused for good (400, 403, 404, 409 …): the message will not be stored. */
  failed: [pending: OutboxMessage, error: ChatApiError];
  /** The set of pending messages changed (sent, failed, queued) or an attempt failed and waits. */
  change: [];
};

export interface MessageOutboxOptions {
  api: Pick<ChatApi, 'postMessage'>;
  /** Waits between attempts of one message (exponential, full jitter). Default 500 ms up to 30 s. */
  backoff?: BackoffOptions;
}

/** No answer (network, timeout), or an answer that says "later": 429, 5xx, and 408. */
function worthRetrying(error: unknown): boolean {
  if (!(error instanceof ChatApiError)) return true;
  return error.status === 408 || error.status === 429 || error.status >= 500 || error.status === 0;
}

/**
 * Sends messages exactly once whatever the network does (wire 1.1 `clientId`): each gets a
 * clientId, is posted in the order sent within its conversation, and is retried with the same
 * clientId until the server answers, while offline too; `flush()` retries at once (call it when
 * the connection is back). A live message carrying a pending clientId settles it, so the app can
 * show one bubble per message: the pending copy until `sent`, then the stored one.
 */
export class MessageOutbox extends TypedEmitter<MessageOutboxEvents> {
  private readonly queues = new Map<string, OutboxMessage[]>();
  private readonly sending = new Set<string>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** clientIds settled by a live delivery while their POST was still out. */
  private readonly settled = new Set<string>();
  private readonly backoff: BackoffOptions;
  private closed = false;

  constructor(private readonly options: MessageOutboxOptions) {
    super();
    this.backoff = options.backoff ?? { minDelayMs: 500, maxDelayMs: 30_000 };
  }

  /** Queues `text` for the conversation and starts sending it; returns its pending copy. */
  send(conversationId: string, text: string): OutboxMessage {
    const pending: OutboxMessage = { clientId: newClientId(), conversationId, text, attempts: 0, lastError: undefined };
    const queue = this.queues.get(conversationId) ?? [];
    queue.push(pending);
    this.queues.set(conversationId, queue);
    this.emit('change');
    this.pump(conversationId);
    return pending;
  }

  /** Messages not confirmed yet, in the order sent (of one conversation, or all). */
  pending(conversationId?: string): OutboxMessage[] {
    if (conversationId !== undefined) return [...(this.queues.get(conversationId) ?? [])];
    return [...this.queues.values()].flat();
  }

  /** Retries every waiting message now (e.g. when the connection is back). */
  flush(): void {
    for (const conversationId of this.queues.keys()) {
      clearTimeout(this.timers.get(conversationId));
      this.timers.delete(conversationId);
      this.pump(conversationId);
    }
  }

  /**
   * A message arrived live: if it is one of ours, it is stored, and nothing more is sent for it.
   * Returns true when it was.
   */
  delivered(message: Summary): boolean {
    const { clientId, conversationId } = message;
    if (clientId === undefined) return false;
    const queue = this.queues.get(conversationId);
    const pending = queue?.find((candidate) => candidate.clientId === clientId);
    if (!pending) return false;
    // A POST still out will answer too: settle now, ignore its answer then.
    if (this.sending.has(conversationId) && queue?.[0] === pending) this.settled.add(clientId);
    this.settle(pending, message);
    return true;
  }

  /** Stops retrying; what is pending stays readable through `pending()`. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private settle(pending: OutboxMessage, message: Message | Summary): void {
    const queue = this.queues.get(pending.conversationId);
    if (!queue) return;
    const index = queue.indexOf(pending);
    if (index < 0) return;
    queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(pending.conversationId);
    this.emit('sent', pending, message);
    this.emit('change');
  }

  private drop(pending: OutboxMessage, error: ChatApiError): void {
    const queue = this.queues.get(pending.conversationId);
    const index = queue?.indexOf(pending) ?? -1;
    if (!queue || index < 0) return;
    queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(pending.conversationId);
    this.emit('failed', pending, error);
    this.emit('change');
  }

  /** Sends the head of the conversation's queue, then the next, one at a time (keeps the order). */
  private pump(conversationId: string): void {
    if (this.closed || this.sending.has(conversationId) || this.timers.has(conversationId)) return;
    const pending = this.queues.get(conversationId)?.[0];
    if (!pending) return;
    this.sending.add(conversationId);
    pending.attempts += 1;
    this.options.api.postMessage(conversationId, pending.text, { clientId: pending.clientId }).then(
      (message) => {
        this.sending.delete(conversationId);
        if (!this.settled.delete(pending.clientId)) this.settle(pending, message);
        this.pump(conversationId);
      },
      (error: ChatClientError) => {
        this.sending.delete(conversationId);
        if (this.settled.delete(pending.clientId)) {
          this.pump(conversationId);
        } else if (error instanceof ChatApiError && !worthRetrying(error)) {
          this.drop(pending, error);
          this.pump(conversationId);
        } else {
          pending.lastError = error;
          this.emit('change');
          if (this.closed) return;
          const retryAfterMs = error instanceof ChatApiError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
          const delay = Math.max(retryAfterMs, backoffDelayMs(pending.attempts - 1, this.backoff));
          this.timers.set(
            conversationId,
            setTimeout(() => {
              this.timers.delete(conversationId);
              this.pump(conversationId);
            }, delay),
          );
        }
      },
    );
  }
}
