import { el } from './dom.js';

export interface ConversationListItem {
  id: string;
  title: string;
  /** The other members, for the line under the title. */
  others: string[];
  unread: number;
}

interface Row {
  item: HTMLLIElement;
  button: HTMLButtonElement;
  title: HTMLElement;
  members: HTMLElement;
  badge: HTMLElement;
}

/**
 * The sidebar list. Rows are kept per conversation and only moved or updated, so a row that has
 * keyboard focus keeps it while messages reorder the list.
 */
export class ConversationListView {
  readonly element: HTMLUListElement;
  private readonly empty: HTMLElement;
  private readonly rows = new Map<string, Row>();

  constructor(private readonly onSelect: (id: string) => void) {
    this.element = el('ul', { class: 'conversation-list', attrs: { 'aria-label': 'Conversations' } });
    this.empty = el('li', { class: 'conversation-list-empty' }, 'No conversations yet. Start one with someone by their username.');
  }

  render(items: readonly ConversationListItem[], activeId: string | undefined): void {
    const focused = document.activeElement;
    const seen = new Set<string>();
    items.forEach((entry, index) => {
      seen.add(entry.id);
      const row = this.rows.get(entry.id) ?? this.createRow(entry.id);
      row.title.textContent = entry.title;
      row.members.textContent = entry.others.length > 0 ? `with ${entry.others.join(', ')}` : 'only you';
      const active = entry.id === activeId;
      row.item.classList.toggle('active', active);
      if (active) row.button.setAttribute('aria-current', 'true');
      else row.button.removeAttribute('aria-current');
      row.badge.hidden = entry.unread === 0;
      row.badge.textContent = entry.unread > 99 ? '99+' : String(entry.unread);
      row.badge.setAttribute('aria-label', `${entry.unread} unread`);
      row.item.dataset.unread = String(entry.unread);
      if (this.element.children[index] !== row.item) this.element.insertBefore(row.item, this.element.children[index] ?? null);
    });
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.item.remove();
        this.rows.delete(id);
      }
    }
    if (items.length === 0) this.element.append(this.empty);
    else this.empty.remove();
    // Moving a focused node drops its focus in some browsers: give it back.
    if (focused instanceof HTMLElement && focused !== document.activeElement && this.element.contains(focused)) focused.focus();
  }

  private createRow(id: string): Row {
    const title = el('span', { class: 'conversation-title' });
    const members = el('span', { class: 'conversation-members' });
    const badge = el('span', { class: 'unread-badge' });
    const button = el(
      'button',
      { class: 'conversation-button', attrs: { type: 'button' }, on: { click: () => this.onSelect(id) } },
      el('span', { class: 'conversation-text' }, title, members),
      badge,
    );
    const item = el('li', { class: 'conversation-item', attrs: { 'data-conversation-id': id } }, button);
    const row: Row = { item, button, title, members, badge };
    this.rows.set(id, row);
    return row;
  }
}
