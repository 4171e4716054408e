import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResumeBatcher } from '../../packages/client/src/resume-batcher.js';
import { RESUME_CURSORS_MAX } from '../../packages/client/src/types.js';

/** The SDK's resume frames and their answers, driven directly (no socket). */

/** The gateway's frame size limit, which every resume frame must stay below. */
const GATEWAY_FRAME_BYTES_MAX = 16 * 1024;

function cursorsFor(count: number, idOf = (index: number) => `c${index}`): Record<string, number> {
  return Object.fromEntries(Array.from({ length: count }, (_, index) => [idOf(index), index + 1]));
}

describe('SDK resume batcher', () => {
  it('sends the cursors and the epoch in one frame, and one frame even with no cursors', () => {
    const batcher = new ResumeBatcher();
    assert.deepEqual(batcher.frames({ a: 3, b: 0 }, 'epoch-1'), [{ type: 'resume', cursors: { a: 3, b: 0 }, epoch: 'epoch-1' }]);
    assert.deepEqual(new ResumeBatcher().frames({}, undefined), [{ type: 'resume', cursors: {} }]);
  });

  it('splits at the gateway cursor limit, keeping every cursor once', () => {
    const cursors = cursorsFor(RESUME_CURSORS_MAX + 1);
    const frames = new ResumeBatcher().frames(cursors, 'e');
    assert.deepEqual(
      frames.map((frame) => Object.keys(frame.cursors).length),
      [RESUME_CURSORS_MAX, 1],
    );
    assert.deepEqual(Object.assign({}, ...frames.map((frame) => frame.cursors)), cursors);
  });

  it('splits long conversation ids so that every frame stays below the gateway frame limit', () => {
    const cursors = cursorsFor(300, (index) => `${'x'.repeat(200)}-${index}`);
    const frames = new ResumeBatcher().frames(cursors, 'e');
    assert.ok(frames.length > 1, `${frames.length} frame(s)`);
    for (const frame of frames) assert.ok(JSON.stringify(frame).length < GATEWAY_FRAME_BYTES_MAX);
    assert.deepEqual(Object.assign({}, ...frames.map((frame) => frame.cursors)), cursors);
  });

  it('matches answers to frames oldest first, and sums up once every frame is answered', () => {
    const batcher = new ResumeBatcher();
    const cursors = cursorsFor(RESUME_CURSORS_MAX + 1);
    batcher.frames(cursors, undefined);
    const last = `c${RESUME_CURSORS_MAX}`;
    assert.equal(batcher.isResuming('c0'), true);
    assert.equal(batcher.isResuming(last), true);
    assert.equal(batcher.isResuming('unknown'), false);

    assert.deepEqual(batcher.answer(false, ['c1', 'c2']), ['c1', 'c2']);
    assert.equal(batcher.isResuming('c0'), false);
    assert.equal(batcher.isResuming(last), true);
    assert.equal(batcher.outcome(), undefined);

    assert.deepEqual(batcher.answer(true, [last]), [], 'a recovered answer loses nothing, whatever it lists');
    assert.equal(batcher.isResuming(last), false);
    assert.deepEqual(batcher.outcome(), { recovered: false, conversations: ['c1', 'c2'] });
  });

  it('reports a full recovery when every answer recovered', () => {
    const batcher = new ResumeBatcher();
    batcher.frames({ a: 1 }, 'e');
    batcher.answer(true, []);
    assert.deepEqual(batcher.outcome(), { recovered: true, conversations: [] });
  });
});
