import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomId } from '../../packages/store/src/random-ids.js';

/** Ids from the pooled random source (random-ids.ts): shape, and no repeat across pool refills. */

test('ids are base64url of the bytes asked for, and none repeats across many pool refills', () => {
  const seen = new Set<string>();
  // 12-byte ids: ~341 per 4 KiB pool, so 20 000 cross ~58 refills, including ones that leave a
  // tail of the pool unused.
  for (let i = 0; i < 20_000; i += 1) {
    const id = randomId();
    assert.match(id, /^[A-Za-z0-9_-]{16}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 20_000);
  assert.match(randomId(9), /^[A-Za-z0-9_-]{12}$/);
  assert.match(randomId(3), /^[A-Za-z0-9_-]{4}$/);
});

test('an id is not a slice of the previous one (each takes fresh bytes of the pool)', () => {
  const bytes = Array.from({ length: 2000 }, () => Buffer.from(randomId(), 'base64url'));
  for (let i = 1; i < bytes.length; i += 1) assert.notDeepEqual(bytes[i], bytes[i - 1]);
  // Every byte value turns up: a stuck or zeroed pool would not.
  const values = new Set(bytes.flatMap((b) => [...b]));
  assert.equal(values.size, 256);
});

test('more than the pool holds is refused', () => {
  assert.throws(() => randomId(5000), RangeError);
});
