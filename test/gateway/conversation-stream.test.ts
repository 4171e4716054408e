import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConversationStream, type ConversationStreamDeps, type StreamItem } from '../../services/gateway/src/conversation-stream.js';

/**
 * The ordering core of the gateway, driven directly: live frames arrive in any order, some twice,
 * some never, and the store it may read holds every change. Whatever the arrival order, the socket
 * must see every frame in rev order, each once, each message once as a `message` before any
 * `message_updated` of it, and end with the current version of every message.
 */

/** One change of the conversation: change i has rev i + 1. */
interface Change {
  seq: number;
  updated: boolean;
}

const frameOf = (change: Change, rev: number) =>
  `{"type":"${change.updated ? 'message_updated' : 'message'}","data":{"seq":${change.seq},"rev":${rev}}}`;

interface Sent {
  type: string;
  seq: number;
  rev: number;
}

const parse = (frame: Buffer | string): Sent => {
  const { type, data } = JSON.parse(String(frame)) as { type: string; data: { seq: number; rev: number } };
  return { type, seq: data.seq, rev: data.rev };
};

/** A log of changes: new messages 1..n in order, and edits of messages already created. */
function logOf(steps: (number | null)[]): Change[] {
  const log: Change[] = [];
  let seqs = 0;
  for (const step of steps) {
    if (step === null || seqs === 0) log.push({ seq: ++seqs, updated: false });
    else log.push({ seq: (step % seqs) + 1, updated: true });
  }
  return log;
}

interface Harness {
  stream: ConversationStream;
  sent: Sent[];
  reads: number;
  /** The live item of rev. */
  item(rev: number): StreamItem;
  /** Resolves when the stream has sent a frame of rev `rev` or above (or rejects after a bound). */
  sentUpTo(rev: number): Promise<void>;
}

function harness(log: Change[], options: { publishedUpTo?: () => number; trimmedBelow?: number } = {}): Harness {
  const sent: Sent[] = [];
  let wake: (() => void) | undefined;
  const state = { reads: 0 };
  const published = () => options.publishedUpTo?.() ?? log.length;
  /** The current version of each stored message: seq → rev of its latest change. */
  const current = () => {
    const latest = new Map<number, number>();
    log.slice(0, published()).forEach((change, index) => latest.set(change.seq, index + 1));
    for (const seq of latest.keys()) if (seq < (options.trimmedBelow ?? 1)) latest.delete(seq);
    return latest;
  };
  const stored = (seq: number, rev: number): StreamItem => ({ seq, rev, updated: false, frame: frameOf({ seq, updated: false }, rev) });
  const lastSeq = () => log.slice(0, published()).filter((change) => !change.updated).length;
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  const deps: ConversationStreamDeps = {
    readHistory: async (_id, after, until, limit) => {
      state.reads += 1;
      const rev = published();
      await tick();
      const items = [...current()]
        .filter(([seq]) => seq > after && seq <= (until ?? Infinity))
        .sort(([a], [b]) => a - b)
        .slice(0, limit)
        .map(([seq, at]) => stored(seq, at));
      return { items, lastSeq: lastSeq(), rev };
    },
    readChanges: async (_id, after, until, maxSeq, limit) => {
      state.reads += 1;
      await tick();
      const rev = published();
      const scanned = [...current()].filter(([, at]) => at > after && at <= (until ?? Infinity)).sort(([, a], [, b]) => a - b).slice(0, limit);
      const items = scanned.filter(([seq]) => seq <= (maxSeq ?? Infinity)).map(([seq, at]) => stored(seq, at));
      const more = scanned.length >= limit;
      return { items, rev, readUntil: more ? (scanned.at(-1)?.[1] ?? after) : (until ?? Math.max(rev, after)), more };
    },
    // Every stored message counts as accepted after the socket became ready (readyAtMs 0).
    readRecent: async (_id, beforeSeq) => {
      state.reads += 1;
      const rev = published();
      await tick();
      const items = [...current()].filter(([seq]) => seq < (beforeSeq ?? Infinity)).sort(([a], [b]) => a - b).map(([seq, at]) => stored(seq, at));
      return { items, lastSeq: lastSeq(), rev };
    },
    send: (frame) => {
      sent.push(parse(frame));
      wake?.();
      return true;
    },
    entitledSinceMs: () => 0,
    onReplayed: () => undefined,
    onReadFailed: (error) => {
      throw error;
    },
    gapWaitMs: 2,
  };
  const stream = new ConversationStream('c1', deps);
  return {
    stream,
    sent,
    get reads() {
      return state.reads;
    },
    item: (rev) => {
      const change = log[rev - 1] as Change;
      return { seq: change.seq, rev, updated: change.updated, frame: frameOf(change, rev) };
    },
    sentUpTo(rev) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sent ${JSON.stringify(sent)} but expected up to rev ${rev}`)), 2000);
        wake = () => {
          if (sent.some((frame) => frame.rev >= rev)) {
            clearTimeout(timer);
            resolve();
          }
        };
        wake();
      });
    },
  };
}

/** What the contract promises a socket that saw the conversation from its start. */
function assertDeliveredInOrder(log: Change[], sent: Sent[], fromSeq = 1): void {
  const revs = sent.map((frame) => frame.rev);
  assert.deepEqual(revs, [...revs].sort((a, b) => a - b), `rev order: ${revs.join(',')}`);
  assert.equal(new Set(revs).size, revs.length, 'each rev once');
  const had = new Set<number>();
  for (const frame of sent) {
    if (frame.type === 'message') {
      assert.ok(!had.has(frame.seq), `seq ${frame.seq} once as a message`);
      had.add(frame.seq);
    } else {
      assert.ok(had.has(frame.seq), `an update of seq ${frame.seq} after its message`);
    }
  }
  const latest = new Map<number, number>();
  log.forEach((change, index) => latest.set(change.seq, index + 1));
  const received = new Map<number, number>();
  for (const frame of sent) received.set(frame.seq, frame.rev);
  for (const [seq, rev] of latest) if (seq >= fromSeq) assert.equal(received.get(seq), rev, `seq ${seq} ends at its current version`);
}

const stepsArbitrary = (max: number) => fc.array(fc.option(fc.nat({ max: 50 }), { freq: 2 }), { minLength: 1, maxLength: max });

describe('conversation stream ordering', () => {
  it('delivers any arrival order of messages and edits, with duplicates and losses, in rev order once each (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        stepsArbitrary(40).chain((steps) =>
          fc.tuple(
            fc.constant(logOf(steps)),
            fc.shuffledSubarray(Array.from({ length: steps.length }, (_, i) => i + 1), { minLength: steps.length, maxLength: steps.length }),
            fc.array(fc.integer({ min: 1, max: steps.length }), { maxLength: 10 }),
            fc.array(fc.boolean(), { minLength: steps.length, maxLength: steps.length }),
            fc.array(fc.nat({ max: 3 }), { minLength: 50, maxLength: 50 }),
          ),
        ),
        async ([log, order, duplicates, lost, pauses]) => {
          const h = harness(log);
          // Lost on the way (pub/sub): never arrives live, except the last, which reveals the gap.
          const arrivals = [...order.filter((rev) => rev === log.length || !lost[rev - 1]), ...duplicates];
          for (const [index, rev] of arrivals.entries()) {
            h.stream.offer(h.item(rev), Date.now());
            // Let reads and timers interleave with arrivals at random points.
            for (let i = 0; i < (pauses[index % pauses.length] ?? 0); i += 1) await new Promise((resolve) => setImmediate(resolve));
          }
          await h.sentUpTo(log.length);
          await new Promise((resolve) => setTimeout(resolve, 10));
          assertDeliveredInOrder(log, h.sent);
          h.stream.close();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('sends the next rev at once without reading the store', () => {
    const log = logOf([null, null, 0]);
    const h = harness(log);
    for (const rev of [1, 2, 3]) h.stream.offer(h.item(rev), Date.now());
    assert.deepEqual(h.sent, [
      { type: 'message', seq: 1, rev: 1 },
      { type: 'message', seq: 2, rev: 2 },
      { type: 'message_updated', seq: 1, rev: 3 },
    ]);
    assert.equal(h.reads, 0);
  });

  it('a message whose creation was superseded on the way reaches the socket once, as a message, in its later version', async () => {
    // rev 1: seq 1; rev 2: seq 2 (lost live); rev 3: seq 3; rev 4: seq 2 edited.
    const log = logOf([null, null, null, 1]);
    const h = harness(log);
    h.stream.offer(h.item(1), Date.now());
    h.stream.offer(h.item(3), Date.now());
    await h.sentUpTo(3);
    h.stream.offer(h.item(4), Date.now());
    await h.sentUpTo(4);
    assert.deepEqual(h.sent, [
      { type: 'message', seq: 1, rev: 1 },
      { type: 'message', seq: 3, rev: 3 },
      { type: 'message', seq: 2, rev: 4 },
    ]);
  });

  it('resume replays the messages after the cursor, then what arrived meanwhile, in order (version 1: no revs)', async () => {
    const log = logOf([null, null, null, null, null, null, null, null, null, null, null, null]);
    let published = 10;
    const h = harness(log, { publishedUpTo: () => published });
    h.stream.hold();
    h.stream.offer(h.item(11), Date.now());
    published = 12;
    const recovered = h.stream.resumeFrom(4);
    h.stream.offer(h.item(12), Date.now());
    assert.equal(await recovered, true);
    await h.sentUpTo(12);
    assert.deepEqual(h.sent.map((frame) => frame.seq), [5, 6, 7, 8, 9, 10, 11, 12]);
    assert.ok(h.sent.every((frame) => frame.type === 'message'));
  });

  it('resume with revs: messages after the cursor in their current version and the changes above revs at or below it, in rev order', async () => {
    // seqs 1..4 (revs 1-4), edit of 1 (rev 5), seq 5 (rev 6), edit of 3 (rev 7), edit of 5 (rev 8), edit of 2 (rev 9).
    const log = logOf([null, null, null, null, 0, null, 2, 4, 1]);
    const h = harness(log);
    // The client saw seqs 1..3 and revs up to 5 (including the edit of 1).
    assert.equal(await h.stream.resumeFrom(3, 5), true);
    assert.deepEqual(h.sent, [
      { type: 'message', seq: 4, rev: 4 },
      { type: 'message_updated', seq: 3, rev: 7 },
      { type: 'message', seq: 5, rev: 8 },
      { type: 'message_updated', seq: 2, rev: 9 },
    ]);
  });

  it('resume with revs, then live frames, keeps rev order and sends nothing twice (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        stepsArbitrary(30).chain((steps) => fc.tuple(fc.constant(logOf(steps)), fc.nat({ max: steps.length }), fc.nat({ max: steps.length }))),
        async ([log, seenRevs, publishedAt]) => {
          // The client saw every change up to seenRevs; the store has published up to publishedAt when it resumes.
          const seen = log.slice(0, seenRevs);
          const cursor = seen.filter((change) => !change.updated).length;
          let published = Math.max(seenRevs, publishedAt);
          const h = harness(log, { publishedUpTo: () => published });
          h.stream.hold();
          const resumed = h.stream.resumeFrom(cursor, seenRevs);
          for (let rev = published + 1; rev <= log.length; rev += 1) {
            published = rev;
            h.stream.offer(h.item(rev), Date.now());
          }
          assert.equal(await resumed, true);
          if (log.length > seenRevs) await h.sentUpTo(log.length);
          await new Promise((resolve) => setTimeout(resolve, 10));
          const before = seen.map((change, index) => ({ type: change.updated ? 'message_updated' : 'message', seq: change.seq, rev: index + 1 }));
          assertDeliveredInOrder(log, [...before, ...h.sent]);
          h.stream.close();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reports recovered false when history no longer reaches back to the cursor', async () => {
    const log = logOf(Array.from({ length: 10 }, () => null));
    const h = harness(log, { trimmedBelow: 6 });
    assert.equal(await h.stream.resumeFrom(2), false);
    assert.deepEqual(h.sent.map((frame) => frame.seq), [6, 7, 8, 9, 10]);
  });

  it('reports recovered false when the cursor is ahead of the store (history went backwards)', async () => {
    const h = harness(logOf([null, null, null]));
    assert.equal(await h.stream.resumeFrom(7), false);
    assert.deepEqual(h.sent, []);
  });

  it('after a lost subscription, catches up from the last rev sent, edits included', async () => {
    const log = logOf([null, null, 0, null, 1, null]);
    let published = 2;
    const h = harness(log, { publishedUpTo: () => published });
    h.stream.offer(h.item(1), Date.now());
    h.stream.offer(h.item(2), Date.now());
    published = 6;
    await h.stream.catchUp();
    assertDeliveredInOrder(log, h.sent);
    assert.deepEqual(h.sent.map((frame) => frame.rev), [1, 2, 3, 4, 5, 6]);
  });

  it('an event of an earlier release (no rev) goes out once, if its seq is new to the socket', () => {
    const h = harness(logOf([null, null]));
    const legacy = (seq: number): StreamItem => ({ seq, rev: undefined, updated: false, frame: `{"type":"message","data":{"seq":${seq},"rev":0}}` });
    h.stream.offer(legacy(1), 0);
    h.stream.offer(legacy(1), 0);
    h.stream.offer(legacy(2), 0);
    assert.deepEqual(h.sent.map((frame) => frame.seq), [1, 2]);
  });
});
