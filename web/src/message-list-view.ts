import type { Message } from '@chat/client';
import { html, nothing, type TemplateResult } from 'lit-html';
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
  /** Edit or delete one of the user's own messages. */
  onEdit: (message: Message) => void;
  onDelete: (message: Message) => void;
}

/** The open conversation's messages: a scrolling log, ascending seq, keyed by seq. */
export function messageListView({ messages, pending, me, hasOlder, loadingOlder, status, scroll, onEdit, onDelete }: MessageListProps): TemplateResult {
  return html`<div class="messages" tabindex="0" @scroll=${scroll.onScroll} ${ref(scroll.logRef)}>
    <button class="older-button" type="button" ?hidden=${!hasOlder} ?disabled=${loadingOlder} @click=${scroll.onNeedOlder}
      >${loadingOlder ? 'Loading earlier messages…' : 'Load earlier messages'}</button
    >
    <p class="messages-status" role="status" ?hidden=${status === ''}>${status}</p>
    <ol class="message-list" role="log" aria-live="polite" aria-label="Messages">
      ${repeat(
        messages,
        (message) => message.seq,
        (message) => messageView(message, message.author === me, onEdit, onDelete),
      )}
      ${repeat(
        pending,
        (message) => message.clientId,
        (message) => pendingView(message.text, me),
      )}
    </ol>
  </div>`;
}

function messageView(message: Message, own: boolean, onEdit: (message: Message) => void, onDelete: (message: Message) => void): TemplateResult {
  const deleted = message.deletedAt !== undefined;
  const classes = ['message', own ? 'own' : '', deleted ? 'deleted' : ''].filter(Boolean).join(' ');
  return html`<li class=${classes} data-seq=${message.seq}>
    <div class="message-meta">
      <span class="message-author">${message.author}</span>
      <time class="message-time" datetime=${message.createdAt} title=${formatFullTime(message.createdAt)}>${formatMessageTime(message.createdAt)}</time>
      ${!deleted && message.editedAt !== undefined
        ? html`<span class="message-edited" title=${`Edited ${formatFullTime(message.editedAt)}`}>edited</span>`
        : nothing}
      ${own && !deleted
        ? html`<span class="message-actions">
            <button type="button" class="message-action" aria-label="Edit message" @click=${() => onEdit(message)}>Edit</button>
            <button type="button" class="message-action" aria-label="Delete message" @click=${() => onDelete(message)}>Delete</button>
          </span>`
        : nothing}
    </div>
    ${deleted ? html`<p class="message-text message-deleted">deleted</p>` : html`<p class="message-text">${message.text}</p>`}
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
