import type { BenchSocket, DeliverySink } from './bench-socket.js';
import { LatencySamples, type LatencySummary } from './latency-samples.js';

/** A conversation this run posts to, and its members' sockets in this workload. */
interface TrackedConversation {
  id: string;
  sockets: BenchSocket[];
  /** Position of each member socket in `sockets`. */
  positionOf: Map<BenchSocket, number>;
  /** Per member socket: the highest seq it has received (0 = none yet). */
  lastSeq: Float64Array;
}

/** What a member position of a post is owed: its frame, which came, or nothing. */
const OWED = 0;
const RECEIVED = 1;
/** Its socket was not open when the message was posted, or was closed by the run before the frame came. */
const NOT_OWED = 2;

/** One posted message, from just before its POST until its step is finished. */
interface PostRecord {
  step: StepAccount;
  conversation: TrackedConversation;
  /** performance.now() just before the POST. */
  postedAt: number;
  /** Member sockets open when it was posted. */
  expected: number;
  /** Per member socket position: OWED, RECEIVED or NOT_OWED. */
  got: Uint8Array;
  received: number;
  /** undefined until the POST has settled. */
  accepted: boolean | undefined;
}

export interface DeliveryCounts {
  /** Deliveries owed for accepted posts: the members' open sockets at post time. */
  expected: number;
  received: number;
  /** Owed but not received by the end of the drain. */
  lost: number;
  duplicated: number;
  /** A frame whose seq was lower than one the same socket already had in that conversation. */
  outOfOrder: number;
  /** Frames of messages this step did not post (an earlier step's late ones, or a failed POST's). */
  unmatched: number;
}

export interface PostCounts {
  /** POSTs sent. */
  attempted: number;
  /** Answered 201. */
  accepted: number;
  /**
   * Answered 503 `unavailable`: refused by the api (a delivery backlog over its bound, or Redis
   * unable to store) with nothing stored. Shedding, not a failure of the run: kept out of `errors`.
   */
  refused: number;
  /** Posts that were due but not sent, because too many were already waiting for an answer. */
  shortfall: number;
  /** Failed POSTs by status and code, e.g. `429 rate_limited`, `0 ECONNRESET`. */
  errors: Record<string, number>;
  errorCount: number;
}

/** Everything counted during one step (a posting window plus its drain). */
export class StepAccount {
  readonly posts: PostCounts = { attempted: 0, accepted: 0, refused: 0, shortfall: 0, errors: {}, errorCount: 0 };
  readonly records: PostRecord[] = [];
  readonly postLatency = new LatencySamples();
  readonly deliveryLatency = new LatencySamples();
  /** Deliveries owed by accepted posts and not yet received. */
  missing = 0;
  inFlight = 0;
  receivedTotal = 0;
  duplicated = 0;
  outOfOrder = 0;
  unmatched = 0;
  lastArrivalAt = 0;
  /** Sockets that closed on their own during the step. */
  socketsClosed = 0;

  constructor(readonly name: string) {}

  /** Nothing more can arrive for this step: every POST answered and every owed frame in. */
  get settled(): boolean {
    return this.inFlight === 0 && this.missing === 0;
  }

  deliveries(): DeliveryCounts {
    let expected = 0;
    let received = 0;
    let unmatched = this.unmatched;
    for (const record of this.records) {
      if (record.accepted) {
        expected += record.expected;
        received += record.received;
      } else {
        unmatched += record.received;
      }
    }
    return {
      expected,
      received,
      lost: expected - received,
      duplicated: this.duplicated,
      outOfOrder: this.outOfOrder,
      unmatched,
    };
  }

  latency(): { delivery: LatencySummary; post: LatencySummary } {
    return { delivery: this.deliveryLatency.summary(), post: this.postLatency.summary() };
  }
}

/**
 * Per-socket delivery accounting for one workload: which member sockets owe which message, and
 * what arrived (first copy timed from just before the POST, later copies counted as duplicates,
 * lower seqs after higher ones as out of order).
 */
export class DeliveryTracker implements DeliverySink {
  private readonly conversations = new Map<string, TrackedConversation>();
  private readonly records = new Map<number, PostRecord>();
  private current: StepAccount | undefined;
  /** Frames for conversations this workload does not track. */
  stray = 0;

  track(conversationId: string, sockets: BenchSocket[]): void {
    this.conversations.set(conversationId, {
      id: conversationId,
      sockets,
      positionOf: new Map(sockets.map((socket, i) => [socket, i])),
      lastSeq: new Float64Array(sockets.length),
    });
  }

  startStep(name: string): StepAccount {
    this.current = new StepAccount(name);
    return this.current;
  }

  /** Call right before sending the POST (it takes the time last); returns what `settle` needs. */
  posted(step: StepAccount, conversationId: string, nonce: number): PostRecord {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) throw new Error(`posting to untracked conversation ${conversationId}`);
    let expected = 0;
    const got = new Uint8Array(conversation.sockets.length);
    for (const [position, socket] of conversation.sockets.entries()) {
      if (socket.open) expected += 1;
      else got[position] = NOT_OWED;
    }
    const record: PostRecord = {
      step,
      conversation,
      postedAt: 0,
      expected,
      got,
      received: 0,
      accepted: undefined,
    };
    this.records.set(nonce, record);
    step.records.push(record);
    step.posts.attempted += 1;
    step.inFlight += 1;
    record.postedAt = performance.now();
    return record;
  }

  settle(record: PostRecord, status: number, errorCode: string | undefined, settledAt: number): void {
    const { step } = record;
    step.inFlight -= 1;
    step.postLatency.add(settledAt - record.postedAt);
    record.accepted = status === 201;
    if (record.accepted) {
      step.posts.accepted += 1;
      step.missing += record.expected - record.received;
    } else if (status === 503 && errorCode === 'unavailable') {
      step.posts.refused += 1;
    } else {
      const key = `${status} ${errorCode ?? 'unknown'}`;
      step.posts.errors[key] = (step.posts.errors[key] ?? 0) + 1;
      step.posts.errorCount += 1;
    }
  }

  delivered(socket: BenchSocket, conversationId: string, seq: number, nonce: number, arrivedAt: number): void {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) {
      this.stray += 1;
      return;
    }
    const position = conversation.positionOf.get(socket);
    const record = this.records.get(nonce);
    const step = record?.step ?? this.current;
    if (position === undefined || step === undefined) {
      this.stray += 1;
      return;
    }
    step.receivedTotal += 1;
    if (record === undefined || record.conversation !== conversation) {
      step.unmatched += 1;
      return;
    }
    if (record.got[position] === RECEIVED) {
      step.duplicated += 1;
      return;
    }
    // A frame for a socket that was not open at post time (or was replaced since): neither owed nor late.
    if (record.got[position] === NOT_OWED) return;
    record.got[position] = RECEIVED;
    record.received += 1;
    if (record.accepted) step.missing -= 1;
    if (seq < (conversation.lastSeq[position] as number)) step.outOfOrder += 1;
    else conversation.lastSeq[position] = seq;
    step.deliveryLatency.add(arrivedAt - record.postedAt);
    if (arrivedAt > step.lastArrivalAt) step.lastArrivalAt = arrivedAt;
  }

  /** Forgets the step's posts: frames that still come for them count as unmatched in the next step. */
  finishStep(step: StepAccount): void {
    for (const [nonce, record] of this.records) if (record.step === step) this.records.delete(nonce);
    if (this.current === step) this.current = undefined;
  }

  /**
   * `socket` is being closed by the run (socket churn): what it is still owed is forgiven rather
   * than counted lost. A real client reads what it missed from history when it reconnects, which
   * is not what this tracker measures.
   */
  forgive(socket: BenchSocket): void {
    for (const record of this.records.values()) {
      const position = record.conversation.positionOf.get(socket);
      if (position === undefined || record.got[position] !== OWED) continue;
      record.got[position] = NOT_OWED;
      record.expected -= 1;
      if (record.accepted) record.step.missing -= 1;
    }
  }

  /** Puts `fresh` (the same user reconnected) in the place of `old` in every tracked conversation. */
  replaceSocket(old: BenchSocket, fresh: BenchSocket): void {
    for (const conversation of this.conversations.values()) {
      const position = conversation.positionOf.get(old);
      if (position === undefined) continue;
      conversation.positionOf.delete(old);
      conversation.positionOf.set(fresh, position);
      conversation.sockets[position] = fresh;
      conversation.lastSeq[position] = 0;
    }
  }

  socketClosed(): void {
    if (this.current) this.current.socketsClosed += 1;
  }
}
