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

/** One posted message, from just before its POST until its step is finished. */
interface PostRecord {
  step: StepAccount;
  conversation: TrackedConversation;
  /** performance.now() just before the POST. */
  postedAt: number;
  /** Member sockets open when it was posted. */
  expected: number;
  /** Per member socket position: 1 once its frame arrived. */
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
  /** Posts that were due but not sent, because too many were already waiting for an answer. */
  shortfall: number;
  /** Failed POSTs by status and code, e.g. `429 rate_limited`, `0 ECONNRESET`. */
  errors: Record<string, number>;
  errorCount: number;
}

/** Everything counted during one step (a posting window plus its drain). */
export class StepAccount {
  readonly posts: PostCounts = { attempted: 0, accepted: 0, shortfall: 0, errors: {}, errorCount: 0 };
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
    for (const socket of conversation.sockets) if (socket.open) expected += 1;
    const record: PostRecord = {
      step,
      conversation,
      postedAt: 0,
      expected,
      got: new Uint8Array(conversation.sockets.length),
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
    if (record.got[position] === 1) {
      step.duplicated += 1;
      return;
    }
    record.got[position] = 1;
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

  socketClosed(): void {
    if (this.current) this.current.socketsClosed += 1;
  }
}
