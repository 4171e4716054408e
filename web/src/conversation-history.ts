import type { Message } from '@chat/client';

/**
 * The messages of one conversation that the page holds: one contiguous run of seqs, from the
 * oldest page read over REST to the newest message (from REST, a send, or the live connection).
 * Keyed by seq, so whatever arrives twice or out of order lands once, in place.
 */
export class ConversationHistory {
  private readonly bySeq = new Map<number, Message>();
  private oldest: number | undefined;
  private newest: number | undefined;
  /** A REST page has been read: the run is anchored at the conversation's newest messages. */
  loaded = false;
  /** Messages older than `oldestSeq` exist on the server. */
  hasOlder = false;

  /** Adds a message; false when that seq is already held. */
  add(message: Message): boolean {
    if (this.bySeq.has(message.seq)) return false;
    this.bySeq.set(message.seq, message);
    if (this.oldest === undefined || message.seq < this.oldest) this.oldest = message.seq;
    if (this.newest === undefined || message.seq > this.newest) this.newest = message.seq;
    return true;
  }

  /**
   * An edit or deletion of a held message: replaces it when the new version is later (a higher
   * rev); false when the page does not hold that seq or already holds this version or a later one.
   */
  update(message: Message): boolean {
    const held = this.bySeq.get(message.seq);
    if (!held || (held.rev ?? 0) >= message.rev) return false;
    this.bySeq.set(message.seq, message);
    return true;
  }

  /** The highest rev among the messages held: the live connection resumes edits after it. */
  get newestRev(): number {
    let newest = 0;
    for (const message of this.bySeq.values()) newest = Math.max(newest, message.rev ?? 0);
    return newest;
  }

  get oldestSeq(): number | undefined {
    return this.oldest;
  }

  get newestSeq(): number | undefined {
    return this.newest;
  }

  get size(): number {
    return this.bySeq.size;
  }

  /** Every message held, ascending seq. */
  messages(): Message[] {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
}
