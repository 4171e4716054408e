import type { Message } from '@chat/client';
import { ConversationHistory } from './conversation-history.js';
import { readPageBefore, type HistoryPage, type MessagePager } from './history-pages.js';

/** Messages per REST page, first and older. */
const PAGE_SIZE = 50;

export interface HistoryLoaderDeps {
  pager: MessagePager;
  /** Aborted when the screen ends: answers that arrive after it are dropped. */
  signal: AbortSignal;
  /**
   * A conversation's newest page is held: the live connection resumes it after `newestSeq`, and
   * its edits and deletions after `newestRev`.
   */
  track: (conversationId: string, newestSeq: number, newestRev?: number) => void;
}

interface HistoryLoad {
  history: ConversationHistory;
  done: Promise<void>;
}

/**
 * The histories the page holds, one per conversation it has opened (or created): their newest page
 * read once over REST however often asked, older pages on demand, live and sent messages added.
 * A history that is dropped (recoveryFailed, left) is read again from scratch when next opened.
 */
export class HistoryLoader {
  private readonly histories = new Map<string, ConversationHistory>();
  private readonly loads = new Map<string, HistoryLoad>();

  constructor(private readonly deps: HistoryLoaderDeps) {}

  get(id: string): ConversationHistory | undefined {
    return this.histories.get(id);
  }

  /** The history of `id`, created empty (not loaded) if the page holds none. */
  historyFor(id: string): ConversationHistory {
    let history = this.histories.get(id);
    if (!history) {
      history = new ConversationHistory();
      this.histories.set(id, history);
    }
    return history;
  }

  /** Forgets `id`'s history; an answer still on its way for it is dropped. */
  drop(id: string): void {
    this.histories.delete(id);
    this.loads.delete(id);
  }

  /** Adds messages to `id`'s history if the page holds one; returns those it did not hold yet. */
  add(id: string, messages: readonly Message[]): Message[] {
    const history = this.histories.get(id);
    if (!history) return [];
    return messages.filter((message) => history.add(message));
  }

  /** An edit or deletion of a message the page may hold; true when it changed what is held. */
  update(id: string, message: Message): boolean {
    return this.histories.get(id)?.update(message) ?? false;
  }

  /** A conversation just created: empty and complete, so nothing to read; live delivery starts at seq 1. */
  startEmpty(id: string): void {
    this.historyFor(id).loaded = true;
    this.deps.track(id, 0);
  }

  /** Reads the newest page (once, however often asked) and tells the connection where to resume from. */
  loadLatest(id: string): Promise<void> {
    const history = this.historyFor(id);
    const current = this.loads.get(id);
    if (current && current.history === history) return current.done;
    const done = readPageBefore(this.deps.pager, id, undefined, PAGE_SIZE).then((page) => {
      // Dropped meanwhile (recoveryFailed, left, signed out): this answer is stale.
      if (this.deps.signal.aborted || this.histories.get(id) !== history) return;
      for (const message of page.items) history.add(message);
      history.hasOlder = page.hasOlder;
      history.loaded = true;
      // No rev (an empty conversation, or a server before 1.1): resume without one.
      this.deps.track(id, history.newestSeq ?? 0, history.newestRev || undefined);
    });
    const load: HistoryLoad = { history, done };
    this.loads.set(id, load);
    void done.then(
      () => this.loads.get(id) === load && this.loads.delete(id),
      () => this.loads.get(id) === load && this.loads.delete(id),
    );
    return done;
  }

  /**
   * Reads the page before `beforeSeq` for `history`; undefined when that history was dropped
   * meanwhile. The caller adds it (see ChatScreen.loadOlder for why not here).
   */
  async readOlder(id: string, history: ConversationHistory, beforeSeq: number): Promise<HistoryPage | undefined> {
    const page = await readPageBefore(this.deps.pager, id, beforeSeq, PAGE_SIZE);
    return this.histories.get(id) === history ? page : undefined;
  }
}
