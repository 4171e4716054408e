import type { ChatApi } from '@chat/client';
import type { ConversationListState } from './conversation-list-state.js';

export interface ReadOnScreenDeps {
  api: Pick<ChatApi, 'markRead'>;
  /** Moves the local read cursor and says to which seq (undefined: nothing to read). */
  list: Pick<ConversationListState, 'markRead'>;
  /** Aborted when the screen ends: a failure after it is not reported. */
  signal: AbortSignal;
  /** The conversation on screen, if any. */
  openId: () => string | undefined;
  /** Every REST failure goes through here (an expired token ends the session); returns what to show. */
  failed: (error: unknown) => string;
}

/**
 * Sends the read cursor of the conversation on screen. It exists because the server keeps unread
 * counts per user, not per page: only what this page says it has shown clears the badge on the
 * user's other devices. A hidden tab has shown nothing (its cursor goes when it is shown again),
 * and a cursor already sent is not sent again, so a burst of messages on screen sends it once.
 */
export class ReadOnScreen {
  /** The read cursor last sent per conversation. */
  private readonly sent = new Map<string, number>();

  constructor(private readonly deps: ReadOnScreenDeps) {}

  /** Back on a hidden tab: what arrived meanwhile is read now that it is on screen. Returns the undo. */
  listen(): () => void {
    const onVisible = () => {
      const id = this.deps.openId();
      if (id !== undefined) this.mark(id);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }

  /** `id` is on screen: its messages are read. Tells the server unless the tab is hidden. */
  mark(id: string): void {
    if (document.visibilityState === 'hidden') return;
    const seq = this.deps.list.markRead(id);
    if (seq === undefined || seq <= (this.sent.get(id) ?? 0)) return;
    this.sent.set(id, seq);
    this.deps.api.markRead(id, seq, { signal: this.deps.signal }).catch((error: unknown) => {
      if (this.deps.signal.aborted) return;
      this.sent.delete(id);
      console.warn(`could not mark ${id} read: ${this.deps.failed(error)}`);
    });
  }
}
