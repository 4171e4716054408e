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
