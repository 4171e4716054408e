import type { Conversation } from '@chat/client';
import { html, type TemplateResult } from 'lit-html';

export interface ConversationPaneProps {
  /** The open conversation; undefined hides the pane (its parts stay, so typed text is kept). */
  conversation: Conversation | undefined;
  /** The members line, with online dots (see members-view.ts). */
  members: TemplateResult;
  /** "bob is typing…", or ''. */
  typingLine: string;
  /** The message log (see message-list-view.ts). */
  messages: TemplateResult;
  /** The message box (see composer.ts). */
  composer: TemplateResult;
  /** Why the last message was not sent; undefined when it was. */
  sendError: string | undefined;
  onBack: () => void;
  onEdit: () => void;
  onLeave: () => void;
}

/** The open conversation: its title and members, the message log, the message box. */
export function conversationPaneView({ conversation, members, typingLine, messages, composer, sendError, onBack, onEdit, onLeave }: ConversationPaneProps): TemplateResult {
  return html`<div class="conversation-pane" ?hidden=${conversation === undefined}>
    <header class="conversation-head">
      <button class="back-button" type="button" aria-label="Back to conversations" @click=${onBack}>‹</button>
      <div class="conversation-head-text">
        <h2 class="conversation-heading" id="conversation-heading">${conversation?.title ?? ''}</h2>
        <p class="conversation-members-line">${members}</p>
      </div>
      <button class="edit-conversation" type="button" @click=${onEdit}>Edit</button>
      <button class="leave-conversation" type="button" @click=${onLeave}>Leave</button>
    </header>
    ${messages}
    <p class="typing-line" aria-live="polite">${typingLine}</p>
    ${composer}
    <p class="hint composer-hint" id="composer-hint">Enter sends · Shift+Enter adds a new line</p>
    <p class="form-error send-error" role="alert" ?hidden=${sendError === undefined}>${sendError === undefined ? '' : `Not sent: ${sendError}`}</p>
  </div>`;
}
