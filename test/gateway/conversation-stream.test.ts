import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConversationStream, type ConversationStreamDeps, type HistoryRead } from '../../services/gateway/src/conversation-stream.js';

/**
 * The ordering core of the gateway, driven directly: live frames arrive in any order, some twice,
 * and the history it may read holds every message. Whatever the arrival order, the socket must
 * see each seq once, ascending, with no gap.
 */

const frameOf = (seq: number) => `{"seq":${seq}}`;
const seqOf = (frame: Buffer | string) => (JSON.parse(String(frame)) as { seq: number }).seq;

interface Harness {
  stream: ConversationStream;
  sent: number[];
  reads: number;
  /** Resolves when the stream has sent `count` frames (or rejects after a bound). */
  sentCount(count: number): Promise<void>;
}

function harness(storedUpTo: () => number, options: { trimmedBelow?: number } = {}): Harness {
  const sent: number[] = [];
  let wake: (() => void) | undefined;
  const state = { reads: 0 };
  const history = (after: number, until: number | undefined, limit: number): HistoryRead => {
    const last = storedUpTo();
    const frames = [];
    for (let seq = Math.max(after + 1, options.trimmedBelow ?? 1); seq <= Math.min(until ?? last, last) && frames.length < limit; seq += 1) {
      frames.push({ seq, frame: frameOf(seq) });
    }
    return { frames, lastSeq: last };
  };
  const deps: ConversationStreamDeps = {
    readHistory: async (_id, after, until, limit) => {
      state.reads += 1;
      await new Promise((resolve) => setImmediate(resolve));
      return history(after, until, limit);
    },
    // Every stored message counts as accepted after the socket became ready (readyAtMs 0).
    readRecent: async (_id, beforeSeq) => {
      state.reads += 1;
      await new Promise((resolve) => setImmediate(resolve));
      return history(0, beforeSeq === undefined ? undefined : beforeSeq - 1, 1000);
    },
    send: (frame) => {
      sent.push(seqOf(frame));
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
    sentCount(count) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sent ${sent.join(',')} but expected ${count} frames`)), 2000);
        wake = () => {
          if (sent.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        };
        wake();
      });
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('conversation stream ordering', () => {
  it('delivers any arrival order with duplicates as 1..n once each (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(range(n), { minLength: n, maxLength: n }),
            fc.array(fc.integer({ min: 1, max: n }), { maxLength: 10 }),
            fc.array(fc.nat({ max: 3 }), { minLength: 50, maxLength: 50 }),
          ),
        ),
        async ([n, order, duplicates, pauses]) => {
          const h = harness(() => n);
          const arrivals = [...order, ...duplicates];
          for (const [index, seq] of arrivals.entries()) {
            h.stream.offer(seq, frameOf(seq), Date.now());
            // Let reads and timers interleave with arrivals at random points.
            for (let i = 0; i < (pauses[index % pauses.length] ?? 0); i += 1) await new Promise((resolve) => setImmediate(resolve));
          }
          await h.sentCount(n);
          await new Promise((resolve) => setTimeout(resolve, 10));
          assert.deepEqual(h.sent, range(n));
          h.stream.close();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('sends the next seq at once without reading the store', () => {
    const h = harness(() => 3);
    for (const seq of [1, 2, 3]) h.stream.offer(seq, frameOf(seq), Date.now());
    assert.deepEqual(h.sent, [1, 2, 3]);
    assert.equal(h.reads, 0);
  });

  it('resume replays from the cursor, then what arrived meanwhile, in order', async () => {
    let stored = 10;
    const h = harness(() => stored);
    h.stream.hold();
    h.stream.offer(11, frameOf(11), Date.now());
    stored = 12;
    const recovered = h.stream.resumeFrom(4);
    h.stream.offer(12, frameOf(12), Date.now());
    assert.equal(await recovered, true);
    await h.sentCount(8);
    assert.deepEqual(h.sent, [5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('reports recovered false when history no longer reaches back to the cursor', async () => {
    const h = harness(() => 10, { trimmedBelow: 6 });
    assert.equal(await h.stream.resumeFrom(2), false);
    assert.deepEqual(h.sent, [6, 7, 8, 9, 10]);
  });

  it('reports recovered false when the cursor is ahead of the store (history went backwards)', async () => {
    const h = harness(() => 3);
    assert.equal(await h.stream.resumeFrom(7), false);
    assert.deepEqual(h.sent, []);
  });

  it('after a lost subscription, catches up from the last seq sent', async () => {
    let stored = 2;
    const h = harness(() => stored);
    h.stream.offer(1, frameOf(1), Date.now());
    h.stream.offer(2, frameOf(2), Date.now());
    stored = 6;
    await h.stream.catchUp();
    assert.deepEqual(h.sent, [1, 2, 3, 4, 5, 6]);
  });
});
