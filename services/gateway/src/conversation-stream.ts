import { frameAs, type FrameKind } from '@chat/contracts';

/**
 * Per socket and conversation: hands frames to the socket in rev order, each once.
 *
 * Every change of a conversation (a message, an edit, a deletion) has the next `rev`, so revs
 * are dense like seqs were: a frame at or below `lastRev` is a duplicate and dropped; the next
 * rev goes out at once; a later one waits in `pending`. If the gap is still open after
 * `gapWaitMs`, the missing revs are read from the store, where each message is found under the
 * rev of its latest change: a rev that is not found was superseded by a later change of the same
 * message, which comes in its turn. Live frames arrive from pub/sub, possibly out of order
 * (several worker jobs at once) or twice (a redelivered job).
 *
 * A socket gets each message once as a `message`, every later change as a `message_updated`. A
 * message whose creation was superseded before it reached this socket (read from the store in a
 * later version, or whose creation frame was skipped) is a hole below `seqHigh`; its first copy
 * then goes out as a `message`, whatever the frame that carries it (frameAs).
 *
 * Where a socket starts in a conversation it did not resume: it is owed every change accepted
 * after it became ready (`entitledSinceMs`). The first live frame seen decides, unless an earlier
 * owed message may still be on its way; then the store says which ones are owed.
 *
 * Store reads (gap fill, resume, first sight, catch-up after a lost subscription) run one at a
 * time per stream; live frames that arrive meanwhile wait in `pending` and follow in order. A read
 * takes the conversation's rev before its messages: what it finds changed after that rev waits in
 * `pending` for its turn too.
 *
 * Events of releases before revs carry none: they go out in seq order, if new to the socket.
 */

export interface StreamItem {
  seq: number;
  /** The rev of this version; undefined for a message of a release before revs. */
  rev: number | undefined;
  /** The frame is a `message_updated`. */
  updated: boolean;
  frame: Buffer | string;
}

export interface HistoryRead {
  /** Ascending seq, in their current version. */
  items: StreamItem[];
  /** The conversation's last seq at the time of the read. */
  lastSeq: number;
  /** The conversation's rev, read before the messages. */
  rev: number;
}

export interface ChangesRead {
  /** Ascending rev, in their current version. */
  items: StreamItem[];
  /** The conversation's rev, read with the items. */
  rev: number;
  /** The read looked at revs up to this one. */
  readUntil: number;
  /** It stopped at its limit: read again after readUntil. */
  more: boolean;
}

export interface ConversationStreamDeps {
  /** Messages with after < seq <= until (or all after `after`), ascending, at most `limit`. */
  readHistory(conversationId: string, after: number, until: number | undefined, limit: number): Promise<HistoryRead>;
  /** Messages whose latest change has a rev in (after, until] (or above after), seq <= maxSeq when given. */
  readChanges(conversationId: string, after: number, until: number | undefined, maxSeq: number | undefined, limit: number): Promise<ChangesRead>;
  /** Messages this socket's user is owed: seq < beforeSeq (or any), accepted at or after `sinceMs` and after they joined. */
  readRecent(conversationId: string, beforeSeq: number | undefined, sinceMs: number): Promise<HistoryRead>;
  /** Writes a frame to the socket; false when the socket is gone (stop sending). */
  send(frame: Buffer | string): boolean;
  /** The socket is owed changes accepted from this time on (epoch ms). */
  entitledSinceMs(): number;
  onReplayed(count: number): void;
  onReadFailed(error: unknown): void;
  gapWaitMs: number;
}

const READ_BATCH = 500;
const RETRY_AFTER_FAILED_READ_MS = 1000;
/** More pending frames than this means something upstream is stuck: read the store now. */
const PENDING_LIMIT = 1000;
/** Seqs skipped at once beyond this were not owed to this socket: they are not kept as holes. */
const HOLES_MAX = 10_000;

const revOf = (item: StreamItem) => item.rev ?? 0;
const byRev = (a: StreamItem, b: StreamItem) => revOf(a) - revOf(b) || a.seq - b.seq;
const bySeq = (a: StreamItem, b: StreamItem) => a.seq - b.seq;

export class ConversationStream {
  /** Highest rev handed to the socket with nothing missing below it (since it started). */
  private lastRev: number | undefined;
  /** Highest seq handed to the socket as a `message` (or below which it started). */
  private seqHigh: number | undefined;
  /** Seqs below seqHigh whose message has not reached the socket yet (superseded on the way). */
  private holes: Set<number> | undefined;
  /** Where this socket started without a resume: its first rev, and the seqs below it owed to nobody here. */
  private firstLive: { rev: number; seq: number } | undefined;
  private readonly pending = new Map<number, StreamItem>();
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
  offer(item: StreamItem, acceptedAtMs: number): void {
    if (this.closed) return;
    const rev = item.rev;
    if (rev === undefined) {
      // An event of an earlier release: no rev to order by.
      if (this.seqHigh === undefined || item.seq > this.seqHigh) this.sendItem(item);
      return;
    }
    if (this.lastRev !== undefined && rev <= this.lastRev) return;
    if (this.held || this.busy > 0) {
      this.pending.set(rev, item);
      return;
    }
    if (this.lastRev === undefined) {
      if (rev > 1 && acceptedAtMs >= this.deps.entitledSinceMs()) {
        // Earlier changes may be owed too and still in flight: ask the store.
        this.pending.set(rev, item);
        void this.exclusive(() => this.startFromStore(item)).catch(() => undefined);
        return;
      }
      this.startAt(rev - 1, item.updated ? item.seq : item.seq - 1);
    }
    if (rev !== (this.lastRev as number) + 1) {
      this.pending.set(rev, item);
      if (this.pending.size > PENDING_LIMIT) this.fillGap();
      else this.armGapTimer(this.deps.gapWaitMs);
      return;
    }
    this.emit(item);
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
    if (this.lastRev === undefined) this.pending.clear();
    else this.drain();
  }

  /**
   * Sends every stored message after `cursor` that this socket has not had, in its current
   * version, and with `revs` (the highest rev the client saw) every message at or below the
   * cursor changed after it, as `message_updated`, all in rev order; then what arrived live
   * meanwhile. Without `revs` the messages go in seq order, as in version 1. Resolves false when
   * history no longer reaches back to the cursor.
   */
  resumeFrom(cursor: number, revs?: number): Promise<boolean> {
    this.held = false;
    return this.exclusive(async () => {
      if (this.closed) return true;
      if (this.firstLive === undefined) {
        // Nothing went out live: replay from the cursor, skipping what an earlier resume sent.
        const { items, base, recovered } = await this.readResumeSet(cursor, undefined, revs);
        if (this.closed) return recovered;
        this.seqHigh = Math.max(this.seqHigh ?? 0, cursor);
        this.apply(items, base, revs === undefined ? bySeq : byRev);
        return recovered;
      }
      // Live frames already went out (the client resumed late): send only what it never had,
      // which is older than them. Order across that boundary cannot be kept; nothing is lost.
      const { rev: liveRev, seq: liveSeq } = this.firstLive;
      if (cursor + 1 >= liveSeq && revs === undefined) return true;
      const { items, recovered } = await this.readResumeSet(cursor, liveSeq - 1, revs);
      let sent = 0;
      for (const item of items.sort(byRev)) {
        if (this.closed) break;
        const isNew = item.seq > cursor && item.seq < liveSeq;
        if (!isNew && revOf(item) >= liveRev) continue; // a change that goes out live in its turn
        sent += 1;
        if (!this.deps.send(frameAs(item.frame, isNew ? 'message' : 'updated'))) this.close();
      }
      this.deps.onReplayed(sent);
      this.firstLive = { rev: liveRev, seq: Math.min(liveSeq, cursor + 1) };
      return recovered;
    });
  }

  /** After this replica lost its pub/sub subscription: send what was published meanwhile. */
  catchUp(): Promise<unknown> {
    return this.exclusive(async () => {
      if (this.closed) return;
      if (this.lastRev === undefined) await this.startFromStore(undefined);
      else await this.readChangesFrom(this.lastRev, undefined);
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.pending.clear();
  }

  private startAt(lastRev: number, seqHigh: number): void {
    this.lastRev = lastRev;
    this.seqHigh = seqHigh;
    this.firstLive = { rev: lastRev + 1, seq: seqHigh + 1 };
  }

  /** Writes the item as a `message` when the socket never had that message, else as a `message_updated`. */
  private sendItem(item: StreamItem): void {
    let kind: FrameKind = 'updated';
    const high = this.seqHigh ?? item.seq - 1;
    if (item.seq > high) {
      const skipped = item.seq - high - 1;
      if (skipped > 0 && skipped <= HOLES_MAX) {
        this.holes ??= new Set();
        for (let seq = high + 1; seq < item.seq; seq += 1) this.holes.add(seq);
      }
      this.seqHigh = item.seq;
      kind = 'message';
    } else if (this.holes?.delete(item.seq)) {
      kind = 'message';
    }
    if (!this.deps.send(frameAs(item.frame, kind))) this.close();
  }

  private emit(item: StreamItem): void {
    this.lastRev = item.rev;
    this.sendItem(item);
  }

  /**
   * What a store read found, in the order given: items up to `base` (the rev the read reflects)
   * go out unless the socket had them; later ones wait in `pending` for their turn.
   */
  private apply(items: StreamItem[], base: number, order: typeof byRev): void {
    const floor = this.lastRev ?? -1;
    let sent = 0;
    for (const item of [...items].sort(order)) {
      if (this.closed) return;
      const rev = revOf(item);
      if (rev <= floor && this.lastRev !== undefined) continue;
      if (rev > base) {
        this.pending.set(rev, item);
        continue;
      }
      this.sendItem(item);
      sent += 1;
    }
    this.lastRev = Math.max(this.lastRev ?? base, base);
    this.deps.onReplayed(sent);
  }

  private drain(): void {
    if (this.lastRev === undefined || this.busy > 0 || this.held) return;
    for (let next = this.pending.get(this.lastRev + 1); next !== undefined && !this.closed; next = this.pending.get(this.lastRev + 1)) {
      this.pending.delete(this.lastRev + 1);
      this.emit(next);
    }
    for (const rev of this.pending.keys()) if (rev <= this.lastRev) this.pending.delete(rev);
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
      if (this.lastRev === undefined || this.pending.size === 0) return;
      const until = Math.min(...this.pending.keys()) - 1;
      if (until > this.lastRev) await this.readChangesFrom(this.lastRev, until);
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

  /** First sight: the store says which messages this socket is owed before `first` (a live frame). */
  private async startFromStore(first: StreamItem | undefined): Promise<void> {
    const beforeSeq = first && !first.updated ? first.seq : undefined;
    const { items, lastSeq, rev } = await this.deps.readRecent(this.conversationId, beforeSeq, this.deps.entitledSinceMs());
    if (this.closed || this.lastRev !== undefined) return;
    const firstOwed = items.reduce((low, item) => Math.min(low, item.seq), beforeSeq ?? lastSeq + 1);
    const base = first?.rev !== undefined ? first.rev - 1 : rev;
    this.seqHigh = firstOwed - 1;
    this.firstLive = { rev: base + 1, seq: firstOwed };
    this.apply(items, base, byRev);
  }

  /** Reads the changes with a rev in (after, until] (or above after) and applies them. */
  private async readChangesFrom(after: number, until: number | undefined): Promise<void> {
    const items: StreamItem[] = [];
    let position = after;
    let base = after;
    for (;;) {
      const read = await this.deps.readChanges(this.conversationId, position, until, undefined, READ_BATCH);
      if (this.closed) return;
      items.push(...read.items);
      position = read.readUntil;
      base = until ?? Math.max(base, read.rev, read.readUntil);
      if (!read.more) break;
    }
    this.apply(items, base, byRev);
  }

  /**
   * What a resume from `cursor` owes: the messages after it (up to `until`), and with `revs` the
   * messages at or below it changed after revs. `base` is the conversation's rev before the first
   * read. `recovered` is false when the store has a hole after the cursor (retention trimmed it),
   * or less than the cursor (data lost).
   */
  private async readResumeSet(
    cursor: number,
    until: number | undefined,
    revs: number | undefined,
  ): Promise<{ items: StreamItem[]; base: number; recovered: boolean }> {
    const items: StreamItem[] = [];
    let recovered = true;
    let base: number | undefined;
    let position = cursor;
    for (;;) {
      const { items: batch, lastSeq, rev } = await this.deps.readHistory(this.conversationId, position, until, READ_BATCH);
      base ??= rev;
      if (this.closed) return { items, base, recovered };
      // The client has seen more than the store holds: history went backwards (data lost).
      if (items.length === 0 && until === undefined && cursor > lastSeq) recovered = false;
      for (const item of batch) {
        // A hole in stored history (retention trimmed it): say so, and carry on after it.
        if (item.seq !== position + 1) recovered = false;
        position = item.seq;
        items.push(item);
      }
      if (batch.length < READ_BATCH) {
        if (position < (until ?? lastSeq)) recovered = false;
        break;
      }
    }
    if (revs !== undefined) {
      let after = revs;
      for (;;) {
        const read = await this.deps.readChanges(this.conversationId, after, undefined, cursor, READ_BATCH);
        if (this.closed) break;
        items.push(...read.items);
        after = read.readUntil;
        if (!read.more) break;
      }
    }
    return { items, base, recovered };
  }
}
