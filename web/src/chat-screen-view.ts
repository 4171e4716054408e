import { html, type TemplateResult } from 'lit-html';

export interface ChatScreenProps {
  /** Which pane a narrow window shows. */
  view: 'list' | 'conversation';
  me: string;
  /** The connection badge (see connection-badge.ts). */
  badge: TemplateResult;
  /** Why the list could not be read; undefined when it could. */
  listError: string | undefined;
  /** The sidebar list (see conversation-list-view.ts). */
  list: TemplateResult;
  /** Nothing is open: the placeholder shows instead of the pane. */
  empty: boolean;
  /** The open conversation (see conversation-pane-view.ts). */
  pane: TemplateResult;
  onSignOut: () => void;
  onNewConversation: () => void;
}

/** The signed-in screen's frame: top bar, the conversation list beside the open conversation. */
export function chatScreenView(props: ChatScreenProps): TemplateResult {
  return html`<div class="chat" data-view=${props.view}>
    <header class="topbar">
      <h1 class="brand">Chat</h1>
      ${props.badge}
      <span class="spacer"></span>
      <span class="signed-in-as"><span class="signed-in-label">Signed in as </span><strong class="me">${props.me}</strong></span>
      <button class="logout" type="button" @click=${props.onSignOut}>Log out</button>
    </header>
    <div class="chat-body">
      <nav class="sidebar" aria-label="Conversations">
        <div class="sidebar-head">
          <h2>Conversations</h2>
          <button class="primary new-conversation" type="button" @click=${props.onNewConversation}>New</button>
        </div>
        <p class="list-status" role="status" ?hidden=${props.listError === undefined}>${props.listError ?? ''}</p>
        ${props.list}
      </nav>
      <main class="conversation" aria-labelledby="conversation-heading">
        <div class="conversation-empty" ?hidden=${!props.empty}>
          <p>Choose a conversation, or start a new one with “New”.</p>
        </div>
        ${props.pane}
      </main>
    </div>
  </div>`;
}
