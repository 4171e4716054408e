import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnauthenticatedError } from '@chat/contracts';
import { withVerifiedTokenCache, type TokenService, type VerifiedToken } from '@chat/auth';

/** A verifier that knows a fixed set of tokens and counts its calls. */
function countingVerifier(valid: Record<string, VerifiedToken>) {
  const calls: string[] = [];
  const service: TokenService = {
    canSign: false,
    sign: () => {
      throw new Error('no key');
    },
    verify(token) {
      calls.push(token);
      const verified = valid[token];
      if (!verified) throw new UnauthenticatedError('invalid token');
      return verified;
    },
  };
  return { service, calls };
}

test('a token verified once is answered from memory until its expiry, then refused as expired', () => {
  let now = 1_000_000;
  const { service, calls } = countingVerifier({ good: { username: 'ann', expiresAtMs: 1_060_000 } });
  const cached = withVerifiedTokenCache(service, { maxEntries: 10, maxAgeMs: 600_000, clockToleranceSeconds: 5, now: () => now });

  assert.deepEqual(cached.verify('good'), { username: 'ann', expiresAtMs: 1_060_000 });
  now += 30_000;
  assert.deepEqual(cached.verify('good'), { username: 'ann', expiresAtMs: 1_060_000 });
  assert.deepEqual(calls, ['good'], 'the second call did not verify again');

  now = 1_064_999; // within the 5 s tolerance
  assert.equal(cached.verify('good').username, 'ann');
  now = 1_065_000;
  assert.throws(() => cached.verify('good'), (error: unknown) => error instanceof UnauthenticatedError && /expired/.test(error.message));
  assert.deepEqual(calls, ['good']);
});

test('tokens that fail are never remembered', () => {
  const { service, calls } = countingVerifier({});
  const cached = withVerifiedTokenCache(service, { maxEntries: 10, maxAgeMs: 60_000, clockToleranceSeconds: 0 });
  assert.throws(() => cached.verify('forged'), UnauthenticatedError);
  assert.throws(() => cached.verify('forged'), UnauthenticatedError);
  assert.deepEqual(calls, ['forged', 'forged']);
});

test('a verification is trusted for maxAgeMs at most, and the oldest token is forgotten first', () => {
  let now = 0;
  const far = 10_000_000;
  const { service, calls } = countingVerifier({
    a: { username: 'ann', expiresAtMs: far },
    b: { username: 'bob', expiresAtMs: far },
    c: { username: 'cy', expiresAtMs: far },
  });
  const cached = withVerifiedTokenCache(service, { maxEntries: 2, maxAgeMs: 1000, clockToleranceSeconds: 0, now: () => now });

  cached.verify('a');
  now = 999;
  cached.verify('a');
  assert.deepEqual(calls, ['a']);
  now = 1000;
  cached.verify('a');
  assert.deepEqual(calls, ['a', 'a'], 'verified again once maxAgeMs passed');

  cached.verify('b');
  cached.verify('c'); // evicts a, the oldest
  cached.verify('b');
  cached.verify('c');
  assert.deepEqual(calls, ['a', 'a', 'b', 'c']);
  cached.verify('a');
  assert.deepEqual(calls, ['a', 'a', 'b', 'c', 'a']);
});
