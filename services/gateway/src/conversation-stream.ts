/**
 * Per socket and conversation: hands frames to the socket in seq order, each once.
 *
 * Live frames arrive from pub/sub, possibly out of order (several worker jobs at once) or twice
 * (a redelivered job). A frame at or below `last` is a duplicate and dropped; the next seq goes
 * out at once; a later one waits in `pending`. If the gap is still open after `gapWaitMs`, the
 * missing seqs are read from the store.
 *
 * Where a socket starts in a conversation it did not resume: it is owed every message accepted
 * after it became ready (`entitledSinceMs`). The first live frame seen decides, unless an earlier
 * owed message may still be on its way; then the store says which ones are owed.
 *
 * Store reads (gap fill, resume, first sight, catch-up after a lost subscription) run one at a
 * time per stream; live frames that arrive meanwhile wait in `pending` and follow in order.
 */

export interface StoredFrame {
  seq: number;
  frame: string;
}

export interface HistoryRead {
  /** Ascending seq. */
  frames: StoredFrame[];
  /** The conversation's last seq at the time of the read. */
  lastSeq: number;
}

export interface ConversationStreamDeps {
  /** Frames with after < seq <= until (or all after `after`), ascending, at most `limit`. */
  readHistory(conversationId: string, after: number, until: number | undefined, limit: number): Promise<HistoryRead>;
  /** Frames this socket's user is owed: seq < beforeSeq (or any), accepted at or after `sinceMs` and after they joined. */
  readRecent(conversationId: string, beforeSeq: number | undefined, sinceMs: number): Promise<HistoryRead>;
  /** Writes a frame to the socket; false when the socket is gone (stop sending). */
  send(frame: Buffer | string): boolean;
  /** The socket is owed messages accepted from this time on (epoch ms). */
  entitledSinceMs(): number;
  onReplayed(count: number): void;
  onReadFailed(error: unknown): void;
  gapWaitMs: number;
}

const READ_BATCH = 500;
const RETRY_AFTER_FAILED_READ_MS = 1000;
/** More pending frames than this means something upstream is stuck: read the store now. */
const PENDING_LIMIT = 1000;

export class ConversationStream {
  /** Highest seq handed to the socket with nothing missing below it (since `firstLive`). */
  private last: number | undefined;
  /** The seq this socket started at without a resume. */
  private firstLive: number | undefined;
  private readonly pending = new Map<number, Buffer | string>();
  /** Store reads queued or running. */
  private busy = 0;
  private reads: Promise<unknown> = Promise.resolve();
  private held = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly conversationId: string,
    private readonly deps: ConversationStreamDeps,
  ) {}

  /** A live frame from pub/sub. */
  offer(seq: number, frame: Buffer | string, acceptedAtMs: number): void {
    if (this.closed || (this.last !== undefined && seq <= this.last)) return;
    if (this.held || this.busy > 0) {
      this.pending.set(seq, frame);
      return;
    }
    if (this.last === undefined) {
      if (seq > 1 && acceptedAtMs >= this.deps.entitledSinceMs()) {
        // Earlier seqs may be owed too and still in flight: ask the store.
        this.pending.set(seq, frame);
        void this.exclusive(() => this.startFromStore(seq)).catch(() => undefined);
        return;
      }
      this.startAt(seq);
    }
    if (seq !== (this.last as number) + 1) {
      this.pending.set(seq, frame);
      if (this.pending.size > PENDING_LIMIT) this.fillGap();
      else this.armGapTimer(this.deps.gapWaitMs);
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
  resumeFrom(cursor: number): Promise<boolean> {
    this.held = false;
    return this.exclusive(async () => {
      if (this.closed) return true;
      if (this.last === undefined || this.firstLive === undefined) {
        // Nothing went out live: replay from the cursor, skipping what an earlier resume sent.
        this.last = Math.max(this.last ?? 0, cursor);
        return this.readRange(cursor, undefined);
      }
      // Live frames already went out (the client resumed late): send only what it never had,
      // which is older than them. Order across that boundary cannot be kept; nothing is lost.
      if (cursor >= this.last) {
        this.last = cursor;
        return true;
      }
      if (cursor + 1 >= this.firstLive) return true;
      const recovered = await this.readRange(cursor, this.firstLive - 1, { olderThanLive: true });
      this.firstLive = cursor + 1;
      return recovered;
    });
  }

  /** After this replica lost its pub/sub subscription: send what was published meanwhile. */
  catchUp(): Promise<unknown> {
    return this.exclusive(async () => {
      if (this.closed) return;
      if (this.last === undefined) await this.startFromStore(undefined);
      else await this.readRange(this.last, undefined);
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.pending.clear();
  }

  private startAt(seq: number): void {
    this.last = seq - 1;
    this.firstLive = seq;
  }

  private emit(seq: number, frame: Buffer | string): void {
    this.last = seq;
    if (!this.deps.send(frame)) this.close();
  }

  private drain(): void {
    if (this.last === undefined || this.busy > 0 || this.held) return;
    for (let next = this.pending.get(this.last + 1); next !== undefined && !this.closed; next = this.pending.get(this.last + 1)) {
      this.pending.delete(this.last + 1);
      this.emit(this.last + 1, next);
    }
    for (const seq of this.pending.keys()) if (seq <= this.last) this.pending.delete(seq);
    if (this.pending.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    } else {
      this.armGapTimer(this.deps.gapWaitMs);
    }
  }

  private armGapTimer(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fillGap();
    }, delayMs);
  }

  private fillGap(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.busy > 0 || this.pending.size === 0) return;
    void this.exclusive(async () => {
      if (this.last === undefined || this.pending.size === 0) return;
      const until = Math.min(...this.pending.keys()) - 1;
      if (until > this.last) await this.readRange(this.last, until);
    }).catch(() => undefined);
  }

  /** Runs store reads one at a time; live frames wait in `pending` until none is left. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    this.busy += 1;
    const run = this.reads.then(task).finally(() => {
      this.busy -= 1;
      this.drain();
    });
    this.reads = run.catch(() => undefined);
    return run.catch((error: unknown) => {
      this.deps.onReadFailed(error);
      if (this.pending.size > 0) this.armGapTimer(RETRY_AFTER_FAILED_READ_MS);
      throw error;
    });
  }

  /** First sight: the store says which messages before `beforeSeq` this socket is owed. */
  private async startFromStore(beforeSeq: number | undefined): Promise<void> {
    const { frames, lastSeq } = await this.deps.readRecent(this.conversationId, beforeSeq, this.deps.entitledSinceMs());
    if (this.closed || this.last !== undefined) return;
    const first = frames[0]?.seq ?? (beforeSeq ?? lastSeq + 1);
    this.startAt(first);
    for (const { seq, frame } of frames) if (seq >= first) this.emit(seq, frame);
    this.deps.onReplayed(frames.length);
  }

  /**
   * Reads (after, until] from the store in batches and emits what the socket has not had. With
   * olderThanLive, the frames are older than what already went out live (a late resume): they
   * are sent without moving `last`. Resolves false when the store has a hole in that range.
   */
  private async readRange(after: number, until: number | undefined, options: { olderThanLive?: boolean } = {}): Promise<boolean> {
    let recovered = true;
    let position = after;
    let replayed = 0;
    for (;;) {
      const { frames, lastSeq } = await this.deps.readHistory(this.conversationId, position, until, READ_BATCH);
      if (this.closed) return recovered;
      // The client has seen more than the store holds: history went backwards (data lost).
      if (replayed === 0 && until === undefined && after > lastSeq) recovered = false;
      for (const { seq, frame } of frames) {
        // A hole in stored history (retention trimmed it): say so, and carry on after it.
        if (seq !== position + 1) recovered = false;
        position = seq;
        replayed += 1;
        if (options.olderThanLive) {
          if (!this.deps.send(frame)) this.close();
        } else if (this.last === undefined || seq > this.last) {
          this.emit(seq, frame);
        }
        if (this.closed) return recovered;
      }
      if (frames.length < READ_BATCH) {
        if (position < (until ?? lastSeq)) recovered = false;
        // Nothing more is stored below the pending frames: skip the hole rather than wait forever.
        if (!options.olderThanLive && until !== undefined && this.last !== undefined && this.last < until) this.last = until;
        break;
      }
    }
    this.deps.onReplayed(replayed);
    return recovered;
  }
}
