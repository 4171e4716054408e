/**
 * Per socket and conversation: hands frames to the socket in seq order, each once.
 *
 * Live frames arrive from pub/sub, possibly out of order (several worker jobs at once) or twice
 * (a redelivered job). A frame at or below `last` is a duplicate and dropped; the next seq goes
 * out at once; a later one waits in `pending`. If the gap is still open after `gapWaitMs`, the
 * missing seqs are read from the store. Resume reads the store from the client's cursor; frames
 * that arrive meanwhile wait in `pending` and follow in order.
 */

export interface StoredFrame {
  seq: number;
  frame: string;
}

export interface HistoryRead {
  frames: StoredFrame[];
  /** The conversation's last seq at the time of the read. */
  lastSeq: number;
}

export interface ConversationStreamDeps {
  /** Frames with after < seq <= until (or all after `after`), ascending, at most `limit`. */
  readHistory(conversationId: string, after: number, until: number | undefined, limit: number): Promise<HistoryRead>;
  /** Writes a frame to the socket; false when the socket is gone (stop sending). */
  send(frame: Buffer | string): boolean;
  onReplayed(count: number): void;
  onReadFailed(error: unknown): void;
  gapWaitMs: number;
}

const READ_BATCH = 500;
const RETRY_AFTER_FAILED_READ_MS = 1000;
/** More pending frames than this means something upstream is stuck: read the store now. */
const PENDING_LIMIT = 1000;

export class ConversationStream {
  /** Highest seq handed to the socket with nothing missing below it (since `first`). */
  private last: number | undefined;
  /** First seq delivered live on this socket, before any resume. */
  private firstLive: number | undefined;
  private readonly pending = new Map<number, Buffer | string>();
  private reading = false;
  private held = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly conversationId: string,
    private readonly deps: ConversationStreamDeps,
  ) {}

  /** A live frame from pub/sub. */
  offer(seq: number, frame: Buffer | string): void {
    if (this.closed) return;
    if (this.held) {
      this.pending.set(seq, frame);
      return;
    }
    if (this.last === undefined) {
      // First sight of this conversation on a socket that did not resume it: start here.
      this.last = seq - 1;
      this.firstLive = seq;
    }
    if (seq <= this.last) return;
    if (this.reading || seq !== this.last + 1) {
      this.pending.set(seq, frame);
      if (this.pending.size > PENDING_LIMIT) this.fillGapNow();
      else if (!this.reading) this.armGapTimer();
      return;
    }
    this.emit(seq, frame);
    this.drain();
  }

  /**
   * Holds live frames back until `resumeFrom` or `release`. Called synchronously when a resume
   * frame arrives, before any await, so no live frame can overtake the replay.
   */
  hold(): void {
    this.held = true;
  }

  /** Ends a hold without replaying (the resume did not concern this conversation after all). */
  release(): void {
    this.held = false;
    if (this.last === undefined) this.pending.clear();
    else this.drain();
  }

  /**
   * Sends every stored message after `cursor` that this socket has not had, then what arrived
   * live meanwhile. Resolves false when history no longer reaches back to the cursor.
   */
  async resumeFrom(cursor: number): Promise<boolean> {
    this.held = false;
    if (this.closed) return true;
    if (this.last === undefined || this.firstLive === undefined) {
      this.last = Math.max(this.last ?? 0, cursor);
      return this.read(cursor, undefined);
    }
    // Live frames already went out (the client resumed late): send only what it never had.
    if (cursor >= this.last) {
      this.last = cursor;
      this.drain();
      return true;
    }
    if (cursor + 1 >= this.firstLive) return true;
    return this.read(cursor, this.firstLive - 1, { keepLast: true });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.pending.clear();
  }

  private emit(seq: number, frame: Buffer | string): void {
    this.last = seq;
    if (!this.deps.send(frame)) this.close();
  }

  private drain(): void {
    if (this.last === undefined) return;
    for (let next = this.pending.get(this.last + 1); next !== undefined && !this.closed; next = this.pending.get(this.last + 1)) {
      this.pending.delete(this.last + 1);
      this.emit(this.last + 1, next);
    }
    for (const seq of this.pending.keys()) if (seq <= this.last) this.pending.delete(seq);
    if (this.pending.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    } else if (!this.reading) {
      this.armGapTimer();
    }
  }

  private armGapTimer(delayMs = this.deps.gapWaitMs): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fillGapNow();
    }, delayMs);
  }

  private fillGapNow(): void {
    if (this.reading || this.closed || this.last === undefined || this.pending.size === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const until = Math.min(...this.pending.keys()) - 1;
    if (until <= this.last) {
      this.drain();
      return;
    }
    void this.read(this.last, until);
  }

  /**
   * Reads (after, until] from the store in batches and emits what the socket has not had.
   * With keepLast, the frames are older than what went out live (a late resume): they are sent
   * without moving `last`.
   */
  private async read(after: number, until: number | undefined, options: { keepLast?: boolean } = {}): Promise<boolean> {
    this.reading = true;
    let recovered = true;
    let position = after;
    let replayed = 0;
    try {
      for (;;) {
        const { frames, lastSeq } = await this.deps.readHistory(this.conversationId, position, until, READ_BATCH);
        if (this.closed) return recovered;
        const end = until ?? lastSeq;
        for (const { seq, frame } of frames) {
          // A hole in stored history (retention trimmed it): say so, and carry on after it.
          if (seq !== position + 1) recovered = false;
          position = seq;
          replayed += 1;
          if (options.keepLast) {
            if (!this.deps.send(frame)) this.close();
          } else if (this.last === undefined || seq > this.last) {
            this.emit(seq, frame);
          }
          if (this.closed) return recovered;
        }
        if (frames.length < READ_BATCH) {
          if (position < end) recovered = false;
          if (!options.keepLast && this.last !== undefined && until !== undefined && this.last < until) {
            // The store has nothing more below the pending frames: skip the hole.
            this.last = until;
          }
          break;
        }
      }
      this.reading = false;
      this.deps.onReplayed(replayed);
      this.drain();
      return recovered;
    } catch (error) {
      this.reading = false;
      this.deps.onReadFailed(error);
      if (this.pending.size > 0) this.armGapTimer(RETRY_AFTER_FAILED_READ_MS);
      throw error;
    }
  }
}
