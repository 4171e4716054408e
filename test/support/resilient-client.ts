import { WebSocket } from 'ws';

/**
 * A test client that behaves as the contract asks of a real one: it reconnects when its socket
 * closes (to the next gateway URL), sends `resume` with its cursors, revs and epoch as its first
 * frame, and keeps exact books per conversation: every seq received, every version (rev) of it,
 * duplicates, and out-of-order arrivals. Fault tests assert on these books.
 *
 * Order is the contract's: every frame of a conversation (message or message_updated) in rev
 * order. Its cursor is the highest seq it holds and its rev the highest it saw: a message whose
 * creation was superseded on the way may then come back as a message_updated of a seq it never
 * held, which is that message's arrival.
 *
 * A conversation reloaded after `recovered: false` starts a new history in the books: the client
 * merges the reload and what it held before with the live frames by seq, as the contract asks
 * (and as the SDK does: it forgets its cursors on a new epoch). Under a new epoch the gateway
 * does not know what the client held (cursors mean nothing there), and a socket's stream of a
 * conversation it did not resume starts with the messages accepted shortly before `ready` (the
 * clock-skew allowance, client-connection.ts): frames the previous socket may have delivered
 * already, and that may reach the client before, while or after its reload. Such a frame is
 * `merged`, not `duplicated`; a frame of a seq (or rev) already received live since the reset,
 * on this socket or an earlier one, is a duplicate.
 */
export interface UpdateBooks {
  /** message_updated frames received. */
  received: number;
  /** message_updated frames of a rev already received. */
  duplicated: number;
  /** message_updated frames with a rev below one received before. */
  outOfOrder: number;
}

export interface DeliveryBooks {
  /** message frames received. */
  received: number;
  /** message frames of a seq already received live (since the last reload, if any). */
  duplicated: number;
  /**
   * message frames of a seq held only from before the last reload (`recovered: false`) or from
   * the reload itself: merged by seq, as an app does. Not duplicates (see the comment at the top).
   */
  merged: number;
  /** Of those, the seqs the client held first from the reload (the others it had live before it). */
  mergedWithReload: number;
  /** message frames with a rev below one received live before (since the last reload, if any). */
  outOfOrder: number;
  /** Highest seq held. */
  last: number;
  /** Highest rev received. */
  rev: number;
  updates: UpdateBooks;
}

const emptyBooks = (last = 0): DeliveryBooks => ({
  received: 0,
  duplicated: 0,
  merged: 0,
  mergedWithReload: 0,
  outOfOrder: 0,
  last,
  rev: 0,
  updates: { received: 0, duplicated: 0, outOfOrder: 0 },
});

/** What arrived live of one conversation: seqs (as message or message_updated), revs, the highest rev. */
interface LiveBooks {
  seqs: Set<number>;
  revs: Set<number>;
  rev: number;
}

const emptyLive = (): LiveBooks => ({ seqs: new Set(), revs: new Set(), rev: 0 });

export class ResilientClient {
  readonly closeCodes: number[] = [];
  /** `conversation` frames (added, updated, removed), each with how many seqs of it were held when it came. */
  readonly conversationFrames: { event: string; id: string; heldBefore: number }[] = [];
  reconnects = 0;
  /** Per conversation: the highest rev held of each seq (received live or reloaded). */
  private readonly versions = new Map<string, Map<number, number>>();
  /** Per conversation: what arrived live since its last reload (all of it, if never reloaded). */
  private readonly live = new Map<string, LiveBooks>();
  /** Per conversation: what arrived live on the current socket. */
  private socketLive = new Map<string, LiveBooks>();
  /** Per conversation: the seqs held first from a reload. */
  private readonly reloaded = new Map<string, Set<number>>();
  private readonly books = new Map<string, DeliveryBooks>();
  private ws: WebSocket | undefined;
  private epoch: string | undefined;
  private urlIndex: number;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private readonly onError: (error: Error) => void;

  /** Reloads from the store after `recovered: false` (history changed: a new epoch). */
  resyncs = 0;

  /**
   * `resync`, when given, is what an app does when told `recovered: false`: reload the
   * conversation's seqs from the store (REST). Without it such a conversation keeps its holes.
   */
  constructor(
    private readonly urls: readonly string[],
    private readonly token: string,
    startAt = 0,
    private readonly resync?: (conversationId: string) => Promise<number[]>,
  ) {
    this.urlIndex = startAt % urls.length;
    this.onError = () => undefined;
  }

  /** Connects and resolves on the first `ready`. */
  start(timeoutMs = 5000): Promise<void> {
    this.open();
    return this.waitUntil(() => this.epoch !== undefined, 'ready', timeoutMs);
  }

  /** Starts books for a conversation the client knows of (as an app that loaded it over REST). */
  track(conversationId: string, lastSeq = 0): void {
    if (!this.books.has(conversationId)) this.books.set(conversationId, emptyBooks(lastSeq));
  }

  booksOf(conversationId: string): DeliveryBooks {
    return this.books.get(conversationId) ?? emptyBooks();
  }

  /** Seqs from..upTo never received (from 1 unless a member joined later). */
  missing(conversationId: string, upTo: number, from = 1): number[] {
    const held = this.versions.get(conversationId) ?? new Map<number, number>();
    const lost: number[] = [];
    for (let seq = from; seq <= upTo; seq += 1) if (!held.has(seq)) lost.push(seq);
    return lost;
  }

  /** Every seq of the conversation received, ascending. */
  received(conversationId: string): number[] {
    return [...(this.versions.get(conversationId)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** Changes (edits, deletions) of which neither this version nor a later one of the same message arrived. */
  missingChanges(conversationId: string, changes: readonly { seq: number; rev: number }[]): { seq: number; rev: number }[] {
    const held = this.versions.get(conversationId) ?? new Map<number, number>();
    return changes.filter((change) => (held.get(change.seq) ?? 0) < change.rev);
  }

  /** Resolves when every seq from..upTo of the conversation, and every change given, has arrived. */
  waitForAll(
    conversationId: string,
    upTo: number,
    timeoutMs: number,
    changes: readonly { seq: number; rev: number }[] = [],
    from = 1,
  ): Promise<void> {
    return this.waitUntil(
      () => this.missing(conversationId, upTo, from).length === 0 && this.missingChanges(conversationId, changes).length === 0,
      `seqs ${from}..${upTo} of ${conversationId} and ${changes.length} changes (missing ${this.missing(conversationId, upTo, from).slice(0, 10).join(',')}; ` +
        `changes missing ${JSON.stringify(this.missingChanges(conversationId, changes).slice(0, 5))})`,
      timeoutMs,
    );
  }

  /** Stops reading from the socket (a slow reader): the gateway's send buffer fills. */
  pauseReading(): void {
    (this.ws as unknown as { _socket?: { pause(): void } })?._socket?.pause();
  }

  resumeReading(): void {
    (this.ws as unknown as { _socket?: { resume(): void } })?._socket?.resume();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.terminate();
      await closed;
    }
  }

  private open(): void {
    const url = `${this.urls[this.urlIndex]}?token=${encodeURIComponent(this.token)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    this.socketLive = new Map();
    ws.on('open', () => {
      const cursors = Object.fromEntries([...this.books].map(([id, books]) => [id, books.last]));
      const revs = Object.fromEntries([...this.books].map(([id, books]) => [id, books.rev]));
      ws.send(JSON.stringify({ type: 'resume', cursors, revs, ...(this.epoch ? { epoch: this.epoch } : {}) }));
    });
    ws.on('message', (data) => this.onFrame(JSON.parse(data.toString()) as { type: string; [key: string]: unknown }));
    ws.on('error', this.onError);
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
    });
    ws.on('close', (code) => {
      this.closeCodes.push(code);
      this.wake();
      if (this.stopped) return;
      this.reconnects += 1;
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      // Short, bounded backoff: the test's own time limits bound the loop.
      setTimeout(() => {
        if (!this.stopped) this.open();
      }, 50 + Math.random() * 100);
    });
  }

  private onFrame(frame: { type: string; [key: string]: unknown }): void {
    if (frame.type === 'ready') this.epoch = String(frame.epoch);
    if (frame.type === 'resumed' && frame.recovered === false && this.resync) {
      for (const id of (frame.conversations as string[] | undefined) ?? []) {
        // A new history: only what this socket sent of it so far counts as received live.
        const socket = this.socketLive.get(id) ?? emptyLive();
        this.live.set(id, { seqs: new Set(socket.seqs), revs: new Set(socket.revs), rev: socket.rev });
        void this.resyncFromStore(id);
      }
    }
    if (frame.type === 'conversation') {
      const id = String((frame.data as { id: unknown }).id);
      this.conversationFrames.push({ event: String(frame.event), id, heldBefore: this.versions.get(id)?.size ?? 0 });
    }
    if (frame.type === 'message' || frame.type === 'message_updated') {
      const { conversationId, seq, rev } = frame.data as { conversationId: string; seq: number; rev: number };
      let held = this.versions.get(conversationId);
      if (!held) {
        held = new Map();
        this.versions.set(conversationId, held);
      }
      let books = this.books.get(conversationId);
      if (!books) {
        books = emptyBooks();
        this.books.set(conversationId, books);
      }
      const live = liveOf(this.live, conversationId);
      const socket = liveOf(this.socketLive, conversationId);
      const counts = frame.type === 'message' ? books : books.updates;
      counts.received += 1;
      if (frame.type === 'message' ? live.seqs.has(seq) : live.revs.has(rev)) counts.duplicated += 1;
      else {
        if (rev < live.rev) counts.outOfOrder += 1;
        // Held from before the reload, or from the reload: the client merges it by seq.
        if (frame.type === 'message' && held.has(seq)) {
          books.merged += 1;
          if (this.reloaded.get(conversationId)?.has(seq)) books.mergedWithReload += 1;
        }
      }
      for (const seen of [live, socket]) {
        seen.seqs.add(seq);
        seen.revs.add(rev);
        seen.rev = Math.max(seen.rev, rev);
      }
      held.set(seq, Math.max(held.get(seq) ?? 0, rev));
      books.last = Math.max(books.last, seq);
      books.rev = Math.max(books.rev, rev);
    }
    this.wake();
  }

  private async resyncFromStore(conversationId: string): Promise<void> {
    for (;;) {
      try {
        const seqs = await (this.resync as (id: string) => Promise<number[]>)(conversationId);
        const held = this.versions.get(conversationId) ?? new Map<number, number>();
        const reloaded = this.reloaded.get(conversationId) ?? new Set<number>();
        for (const seq of seqs) if (!held.has(seq)) reloaded.add(seq);
        this.reloaded.set(conversationId, reloaded);
        for (const seq of seqs) held.set(seq, held.get(seq) ?? 0);
        this.versions.set(conversationId, held);
        const top = Math.max(0, ...seqs);
        const books = this.books.get(conversationId);
        if (books) books.last = Math.max(books.last, top);
        this.resyncs += 1;
        this.wake();
        return;
      } catch {
        if (this.stopped) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  private waitUntil(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

function liveOf(books: Map<string, LiveBooks>, conversationId: string): LiveBooks {
  let live = books.get(conversationId);
  if (!live) {
    live = emptyLive();
    books.set(conversationId, live);
  }
  return live;
}
