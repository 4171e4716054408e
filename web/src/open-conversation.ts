import type { Message } from '@chat/client';
import type { HistoryLoader } from './history-loader.js';
import type { MessageLogScroll, ShownRun } from './message-log-scroll.js';

export interface OpenConversationDeps {
  histories: HistoryLoader;
  scroll: MessageLogScroll;
  /** Every REST failure goes through here (an expired token ends the session); returns what to show. */
  failed: (error: unknown) => string;
  /** Something the log shows changed. */
  onChange: () => void;
}

/** What the message log shows, derived from the open conversation's history. */
export interface LogContent {
  messages: Message[];
  hasOlder: boolean;
  shown: ShownRun;
}

/**
 * The conversation on the right: which one is open, and the state of its log: loading, empty,
 * reading older pages, what failed, why the last send was refused. Its messages are its history's
 * (history-loader.ts), shown once the newest page is read.
 */
export class OpenConversation {
  id: string | undefined;
  /** Counts conversations opened: the message log starts over with each. */
  private run = 0;
  loadingOlder = false;
  /** The line above the messages ('' for none). */
  status = '';
  /** Why the last message was not sent; undefined when it was. */
  sendError: string | undefined;

  constructor(private readonly deps: OpenConversationDeps) {}

  /** Opens `id`: its history as held, or its newest page read first. */
  show(id: string): void {
    this.id = id;
    this.run += 1;
    this.loadingOlder = false;
    this.sendError = undefined;
    const { histories } = this.deps;
    const history = histories.historyFor(id);
    if (history.loaded) this.showHistory();
    else {
      this.status = 'Loading messages…';
      histories.loadLatest(id).then(
        () => {
          if (this.id !== id || histories.get(id) !== history) return;
          this.showHistory();
          this.deps.onChange();
        },
        (error: unknown) => {
          if (this.id !== id) return;
          this.status = `Could not load the messages: ${this.deps.failed(error)}`;
          this.deps.onChange();
        },
      );
    }
  }

  close(): void {
    this.id = undefined;
    this.run += 1;
  }

  /** Messages were added to `id`'s history: once it is shown, they replace the "no messages" line. */
  added(id: string): void {
    if (id === this.id && this.deps.histories.get(id)?.loaded) this.status = '';
  }

  /** Reads the page before the oldest message shown, if there is one and no read is under way. */
  loadOlder(): void {
    const id = this.id;
    if (id === undefined || this.loadingOlder) return;
    const history = this.deps.histories.get(id);
    const before = history?.oldestSeq;
    if (!history?.loaded || !history.hasOlder || before === undefined) return;
    this.loadingOlder = true;
    this.deps.onChange();
    this.deps.histories.readOlder(id, history, before).then(
      (page) => {
        if (page === undefined) return;
        history.hasOlder = page.hasOlder;
        const open = this.id === id;
        if (open) {
          // The button settles first (hidden after the last page), so the place the log keeps
          // while the page is prepended is measured as the reader will see it.
          this.loadingOlder = false;
          this.deps.onChange();
        }
        for (const message of page.items) history.add(message);
        if (open) this.deps.onChange();
      },
      (error: unknown) => {
        if (this.id !== id) return;
        this.loadingOlder = false;
        this.status = `Could not load earlier messages: ${this.deps.failed(error)}`;
        this.deps.onChange();
      },
    );
  }

  log(): LogContent {
    const history = this.id === undefined ? undefined : this.deps.histories.get(this.id);
    const messages = history?.loaded ? history.messages() : [];
    return {
      messages,
      hasOlder: history?.loaded === true && history.hasOlder,
      shown: { run: this.run, seqs: messages.map((message) => message.seq) },
    };
  }

  private showHistory(): void {
    this.status = this.deps.histories.get(this.id ?? '')?.size === 0 ? 'No messages yet. Say hello!' : '';
    this.deps.scroll.scrollToBottom();
  }
}
