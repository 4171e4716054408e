import type { Message } from '@chat/client';
import { el } from './dom.js';
import { formatFullTime, formatMessageTime } from './format-time.js';

/** Within this many pixels of the bottom counts as "at the bottom" (follow new messages). */
const BOTTOM_SLACK_PX = 48;
/** Within this many pixels of the top, older messages are loaded. */
const TOP_TRIGGER_PX = 80;

export interface MessageListOptions {
  /** The signed-in user: their messages are styled as their own. */
  me: string;
  /** Called when the reader reaches the top (or asks for earlier messages) while older ones exist. */
  onNeedOlder: () => void;
}

/**
 * The open conversation's messages: a scrolling log, ascending seq. Messages are inserted in seq
 * order wherever they belong; the view follows new messages while the reader is at the bottom and
 * keeps its place while older pages are prepended.
 */
export class MessageListView {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly olderButton: HTMLButtonElement;
  private readonly status: HTMLElement;
  /** Seqs shown, ascending, and their nodes. */
  private seqs: number[] = [];
  private readonly nodes = new Map<number, HTMLLIElement>();
  private hasOlder = false;
  private loadingOlder = false;

  constructor(private readonly options: MessageListOptions) {
    this.olderButton = el(
      'button',
      { class: 'older-button', attrs: { type: 'button', hidden: true }, on: { click: () => this.requestOlder() } },
      'Load earlier messages',
    );
    this.status = el('p', { class: 'messages-status', attrs: { role: 'status' } });
    this.list = el('ol', { class: 'message-list', attrs: { role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' } });
    this.element = el(
      'div',
      { class: 'messages', attrs: { tabindex: 0 }, on: { scroll: () => this.onScroll() } },
      this.olderButton,
      this.status,
      this.list,
    );
  }

  /** Empties the view, e.g. when another conversation opens. */
  reset(): void {
    this.list.replaceChildren();
    this.seqs = [];
    this.nodes.clear();
    this.setOlder(false, false);
    this.setStatus('');
  }

  setStatus(text: string): void {
    this.status.textContent = text;
    this.status.hidden = text === '';
  }

  /** Whether older messages exist, and whether they are being loaded now. */
  setOlder(hasOlder: boolean, loading: boolean): void {
    this.hasOlder = hasOlder;
    this.loadingOlder = loading;
    this.olderButton.hidden = !hasOlder;
    this.olderButton.disabled = loading;
    this.olderButton.textContent = loading ? 'Loading earlier messages…' : 'Load earlier messages';
  }

  /** Shows messages not shown yet, each at its place by seq. */
  insert(messages: readonly Message[]): void {
    const fresh = messages.filter((message) => !this.nodes.has(message.seq));
    if (fresh.length === 0) return;
    const wasAtBottom = this.isAtBottom();
    const firstShown = this.seqs[0];
    const prepending = firstShown !== undefined && fresh.every((message) => message.seq < firstShown);
    const fromBottom = this.element.scrollHeight - this.element.scrollTop;

    for (const message of [...fresh].sort((a, b) => a.seq - b.seq)) {
      const node = this.renderMessage(message);
      const index = this.insertionIndex(message.seq);
      const next = this.seqs[index];
      this.list.insertBefore(node, next === undefined ? null : (this.nodes.get(next) ?? null));
      this.seqs.splice(index, 0, message.seq);
      this.nodes.set(message.seq, node);
    }

    if (prepending) this.element.scrollTop = this.element.scrollHeight - fromBottom;
    else if (wasAtBottom) this.scrollToBottom();
    this.fillViewport();
  }

  scrollToBottom(): void {
    this.element.scrollTop = this.element.scrollHeight;
  }

  /** After the first page: when it does not fill the view, there is no scrolling to the top, so load more now. */
  fillViewport(): void {
    if (this.hasOlder && !this.loadingOlder && this.element.scrollHeight <= this.element.clientHeight + TOP_TRIGGER_PX) {
      this.requestOlder();
    }
  }

  private isAtBottom(): boolean {
    return this.element.scrollHeight - this.element.scrollTop - this.element.clientHeight <= BOTTOM_SLACK_PX;
  }

  private onScroll(): void {
    if (this.element.scrollTop <= TOP_TRIGGER_PX) this.requestOlder();
  }

  private requestOlder(): void {
    if (this.hasOlder && !this.loadingOlder) this.options.onNeedOlder();
  }

  /** Where `seq` goes in the ascending `seqs` (binary search). */
  private insertionIndex(seq: number): number {
    let low = 0;
    let high = this.seqs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.seqs[mid] as number) < seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private renderMessage(message: Message): HTMLLIElement {
    const own = message.author === this.options.me;
    return el(
      'li',
      { class: own ? 'message own' : 'message', attrs: { 'data-seq': message.seq } },
      el(
        'div',
        { class: 'message-meta' },
        el('span', { class: 'message-author' }, message.author),
        el('time', { class: 'message-time', attrs: { datetime: message.createdAt, title: formatFullTime(message.createdAt) } }, formatMessageTime(message.createdAt)),
      ),
      el('p', { class: 'message-text' }, message.text),
    );
  }
}
