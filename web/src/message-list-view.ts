import type { Message } from '@chat/client';
import { html, type TemplateResult } from 'lit-html';
import { ref } from 'lit-html/directives/ref.js';
import { repeat } from 'lit-html/directives/repeat.js';
import { formatFullTime, formatMessageTime } from './format-time.js';
import type { MessageLogScroll } from './message-log-scroll.js';

export interface MessageListProps {
  /** Ascending seq. */
  messages: readonly Message[];
  /** The user's messages not confirmed by the server yet, in the order sent: shown after the others. */
  pending: readonly { clientId: string; text: string }[];
  /** The signed-in user: their messages are styled as their own. */
  me: string;
  /** Older messages exist: the "Load earlier messages" button shows. */
  hasOlder: boolean;
  /** Older messages are being read now. */
  loadingOlder: boolean;
  /** A line above the messages ('' for none): loading, empty, or what failed. */
  status: string;
  /** The log's scrolling; it also asks for older messages. */
  scroll: MessageLogScroll;
}

/** The open conversation's messages: a scrolling log, ascending seq, keyed by seq. */
export function messageListView({ messages, pending, me, hasOlder, loadingOlder, status, scroll }: MessageListProps): TemplateResult {
  return html`<div class="messages" tabindex="0" @scroll=${scroll.onScroll} ${ref(scroll.logRef)}>
    <button class="older-button" type="button" ?hidden=${!hasOlder} ?disabled=${loadingOlder} @click=${scroll.onNeedOlder}
      >${loadingOlder ? 'Loading earlier messages…' : 'Load earlier messages'}</button
    >
    <p class="messages-status" role="status" ?hidden=${status === ''}>${status}</p>
    <ol class="message-list" role="log" aria-live="polite" aria-label="Messages">
      ${repeat(
        messages,
        (message) => message.seq,
        (message) => messageView(message, message.author === me),
      )}
      ${repeat(
        pending,
        (message) => message.clientId,
        (message) => pendingView(message.text, me),
      )}
    </ol>
  </div>`;
}

function messageView(message: Message, own: boolean): TemplateResult {
  return html`<li class=${own ? 'message own' : 'message'} data-seq=${message.seq}>
    <div class="message-meta">
      <span class="message-author">${message.author}</span>
      <time class="message-time" datetime=${message.createdAt} title=${formatFullTime(message.createdAt)}>${formatMessageTime(message.createdAt)}</time>
    </div>
    <p class="message-text">${message.text}</p>
  </li>`;
}

/** A message on its way: one bubble, replaced by the stored message once the server has it. */
function pendingView(text: string, me: string): TemplateResult {
  return html`<li class="message own pending">
    <div class="message-meta">
      <span class="message-author">${me}</span>
      <span class="message-time">sending…</span>
    </div>
    <p class="message-text">${text}</p>
  </li>`;
}
