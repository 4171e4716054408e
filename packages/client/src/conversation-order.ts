import type { Message, Summary } from './types.js';

export interface ConversationOrderDeps {
  /** Hands a message to the app: called in seq order per conversation, once per seq. */
  deliver(message: Summary): void;
  /**
   * Reads the missing seqs after < seq <= until (over REST). Undefined when there is no way to:
   * then `onGapUnreadable` is told instead.
   */
  readRange: ((conversationId: string, after: number, until: number) => Promise<Message[]>) | undefined;
  onGapUnreadable(conversationId: string): void;
  /** History has a hole the store cannot fill (trimmed): the app must reload the conversation. */
  onHole(conversationId: string): void;
  onReadFailed(conversationId: string, error: unknown): void;
  /** True while a resume for this conversation is unanswered: the replay may still fill the gap. */
  isResuming(conversationId: string): boolean;
  gapTimeoutMs: number;
}

interface ConversationState {
  /** Last seq handed to the app; undefined until one is seen or tracked. */
  cursor: number | undefined;
  /** Messages above cursor + 1, waiting for the gap below them to fill. */
  pending: Map<number, Summary>;
  timer: ReturnType<typeof setTimeout> | undefined;
  reading: boolean;
  /** The newest title seen, for messages read over REST (a Message has none). */
  title: string;
}

/**
 * Per conversation: delivers messages to the app in seq order, each once, whatever the order and
 * repetition they arrive in (replays after a reconnect, a stale resume, two sockets' overlap).
 * A message at or below the cursor is a duplicate; cursor + 1 goes out at once; a later one waits
 * for the gap, and after `gapTimeoutMs` the gap is read over REST.
 */
export class ConversationOrder {
  private readonly states = new Map<string, ConversationState>();
  /** Bumped by clearPending/reset, so a REST read that returns afterwards delivers nothing. */
  private generation = 0;

  constructor(private readonly deps: ConversationOrderDeps) {}

  offer(message: Summary): void {
    const state = this.state(message.conversationId);
    state.title = message.conversationTitle;
    // A conversation seen for the first time starts at the first seq it shows.
    state.cursor ??= message.seq - 1;
    if (message.seq <= state.cursor) return;
    if (message.seq === state.cursor + 1) {
      this.deliver(state, message);
      this.drain(message.conversationId, state);
      return;
    }
    state.pending.set(message.seq, message);
    this.armGapTimer(message.conversationId, state, this.deps.gapTimeoutMs);
  }

  /**
   * An edit or deletion (1.1). True when the app has the message (at or below the cursor, or in
   * a conversation not tracked here): the caller tells it of the change. A copy still waiting
   * for a gap is replaced by the new version; a message never seen goes in as a new one.
   */
  update(message: Summary): boolean {
    const state = this.states.get(message.conversationId);
    if (!state || state.cursor === undefined || message.seq <= state.cursor) return true;
    if (state.pending.has(message.seq)) state.pending.set(message.seq, message);
    else this.offer(message);
    return false;
  }

  /** Seeds or advances a cursor (it never moves back). */
  track(conversationId: string, lastSeq: number): void {
    const state = this.state(conversationId);
    if (state.cursor !== undefined && lastSeq <= state.cursor) return;
    state.cursor = lastSeq;
    this.drain(conversationId, state);
  }

  untrack(conversationId: string): void {
    const state = this.states.get(conversationId);
    if (!state) return;
    clearTimeout(state.timer);
    this.states.delete(conversationId);
  }

  cursor(conversationId: string): number | undefined {
    return this.states.get(conversationId)?.cursor;
  }

  cursors(): Record<string, number> {
    const cursors: Record<string, number> = {};
    for (const [id, state] of this.states) if (state.cursor !== undefined) cursors[id] = state.cursor;
    return cursors;
  }

  /**
   * Gives up on the gap below the waiting messages (history no longer has it) and delivers them.
   * With nothing waiting, the cursor is dropped: the conversation starts again at the next seq seen.
   */
  skipGap(conversationId: string): void {
    const state = this.states.get(conversationId);
    if (!state) return;
    if (state.pending.size === 0) {
      this.untrack(conversationId);
      return;
    }
    state.cursor = Math.min(...state.pending.keys()) - 1;
    this.drain(conversationId, state);
  }

  /** Drops waiting messages and timers (the socket is gone; a resume will replay them). */
  clearPending(): void {
    this.generation += 1;
    for (const state of this.states.values()) {
      clearTimeout(state.timer);
      state.timer = undefined;
      state.pending.clear();
      state.reading = false;
    }
  }

  /** Forgets every cursor (the store's history was replaced: the seqs mean nothing any more). */
  reset(): void {
    this.clearPending();
    this.states.clear();
  }

  private state(conversationId: string): ConversationState {
    let state = this.states.get(conversationId);
    if (!state) {
      state = { cursor: undefined, pending: new Map(), timer: undefined, reading: false, title: '' };
      this.states.set(conversationId, state);
    }
    return state;
  }

  private deliver(state: ConversationState, message: Summary): void {
    state.cursor = message.seq;
    this.deps.deliver(message);
  }

  /** Delivers what waited and is now next; re-checks after each delivery, as a listener may change things. */
  private drain(conversationId: string, state: ConversationState): void {
    for (;;) {
      if (this.states.get(conversationId) !== state || state.cursor === undefined) return;
      const next = state.pending.get(state.cursor + 1);
      if (next === undefined) break;
      state.pending.delete(next.seq);
      this.deliver(state, next);
    }
    const cursor = state.cursor;
    for (const seq of state.pending.keys()) if (seq <= cursor) state.pending.delete(seq);
    if (state.pending.size === 0) {
      clearTimeout(state.timer);
      state.timer = undefined;
    } else {
      this.armGapTimer(conversationId, state, this.deps.gapTimeoutMs);
    }
  }

  private armGapTimer(conversationId: string, state: ConversationState, delayMs: number): void {
    if (state.timer !== undefined || state.reading) return;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.onGapTimeout(conversationId, state);
    }, delayMs);
  }

  private onGapTimeout(conversationId: string, state: ConversationState): void {
    if (this.states.get(conversationId) !== state || state.pending.size === 0) return;
    if (this.deps.isResuming(conversationId)) {
      this.armGapTimer(conversationId, state, this.deps.gapTimeoutMs);
      return;
    }
    const readRange = this.deps.readRange;
    if (!readRange) {
      this.deps.onGapUnreadable(conversationId);
      return;
    }
    void this.fillGap(conversationId, state, readRange);
  }

  private async fillGap(
    conversationId: string,
    state: ConversationState,
    readRange: (conversationId: string, after: number, until: number) => Promise<Message[]>,
  ): Promise<void> {
    const generation = this.generation;
    const after = state.cursor as number;
    const until = Math.min(...state.pending.keys()) - 1;
    state.reading = true;
    let messages: Message[];
    try {
      messages = await readRange(conversationId, after, until);
    } catch (error) {
      if (generation !== this.generation || this.states.get(conversationId) !== state) return;
      state.reading = false;
      this.deps.onReadFailed(conversationId, error);
      if (state.pending.size > 0) this.armGapTimer(conversationId, state, this.deps.gapTimeoutMs);
      return;
    }
    if (generation !== this.generation || this.states.get(conversationId) !== state) return;
    state.reading = false;
    const cursor = state.cursor;
    if (cursor === undefined) return;
    const bySeq = new Map<number, Message>();
    for (const message of messages) if (message.seq > cursor && message.seq <= until) bySeq.set(message.seq, message);
    const fresh = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    // Fewer than asked for: the store no longer has some of those seqs (history was trimmed).
    if (fresh.length < until - cursor) {
      this.deps.onHole(conversationId);
      if (this.states.get(conversationId) !== state) return;
    }
    for (const message of fresh) {
      if (this.states.get(conversationId) !== state || state.cursor === undefined) return;
      if (message.seq > state.cursor) this.deliver(state, { ...message, conversationTitle: state.title });
    }
    if (this.states.get(conversationId) !== state || state.cursor === undefined) return;
    if (state.cursor < until) state.cursor = until;
    this.drain(conversationId, state);
  }
}
