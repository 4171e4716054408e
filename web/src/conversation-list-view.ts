import { html, nothing, type TemplateResult } from 'lit-html';
import { ref, type Ref } from 'lit-html/directives/ref.js';
import { repeat } from 'lit-html/directives/repeat.js';

export interface ConversationListItem {
  id: string;
  title: string;
  /** The other members, for the line under the title. */
  others: string[];
  unread: number;
}

export interface ConversationListProps {
  items: readonly ConversationListItem[];
  activeId: string | undefined;
  /** The list has been read: with no items, say there are none (rather than nothing while it loads). */
  loaded: boolean;
  onSelect: (id: string) => void;
  /** Set to the list element (the screen moves focus into it and keeps it there). */
  listRef: Ref<HTMLUListElement>;
}

/**
 * The sidebar list. Rows are keyed by conversation and only moved or updated, so a row that has
 * keyboard focus keeps it while messages reorder the list.
 */
export function conversationListView({ items, activeId, loaded, onSelect, listRef }: ConversationListProps): TemplateResult {
  const rows =
    items.length === 0
      ? loaded
        ? html`<li class="conversation-list-empty">No conversations yet. Start one with someone by their username.</li>`
        : nothing
      : repeat(
          items,
          (item) => item.id,
          (item) => row(item, item.id === activeId, onSelect),
        );
  return html`<ul class="conversation-list" aria-label="Conversations" ${ref(listRef)}>${rows}</ul>`;
}

function row({ id, title, others, unread }: ConversationListItem, active: boolean, onSelect: (id: string) => void): TemplateResult {
  return html`<li class=${active ? 'conversation-item active' : 'conversation-item'} data-conversation-id=${id} data-unread=${unread}>
    <button class="conversation-button" type="button" aria-current=${active ? 'true' : nothing} @click=${() => onSelect(id)}>
      <span class="conversation-text"
        ><span class="conversation-title">${title}</span
        ><span class="conversation-members">${others.length > 0 ? `with ${others.join(', ')}` : 'only you'}</span></span
      >
      <span class="unread-badge" ?hidden=${unread === 0} aria-label=${`${unread} unread`}>${unread > 99 ? '99+' : String(unread)}</span>
    </button>
  </li>`;
}
