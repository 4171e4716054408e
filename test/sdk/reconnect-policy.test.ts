import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode } from '../../packages/client/src/close-codes.js';
import { ChatConnectionError } from '../../packages/client/src/errors.js';
import { ReconnectPolicy, type EndedSocket } from '../../packages/client/src/reconnect-policy.js';

/** Where and when the SDK reconnects, driven directly (no socket, no timers). */

const urls = ['ws://a/ws', 'ws://b/ws'];
const timings = { minReconnectDelayMs: 100, maxReconnectDelayMs: 1000, stableConnectionMs: 10_000 };

function ended(overrides: Partial<EndedSocket> = {}): EndedSocket {
  return { code: CloseCode.Abnormal, upgradeStatus: undefined, readyAtMs: undefined, staticToken: false, ...overrides };
}

describe('SDK reconnect policy', () => {
  it('tries the next replica after an ordinary failure, with backoff; at once after 1001 from a ready socket', () => {
    const policy = new ReconnectPolicy(urls, timings);
    assert.equal(policy.url, 'ws://a/ws');
    assert.deepEqual(policy.afterEnded(ended()), { action: 'retry', immediately: false });
    assert.equal(policy.url, 'ws://b/ws');
    assert.deepEqual(policy.afterEnded(ended({ code: CloseCode.GoingAway, readyAtMs: Date.now() })), { action: 'retry', immediately: true });
    assert.equal(policy.url, 'ws://a/ws');
    assert.deepEqual(policy.afterEnded(ended({ code: CloseCode.GoingAway })), { action: 'retry', immediately: false }, 'never ready: backoff');
  });

  it('with a token function, retries an expired or refused token on the same replica', () => {
    const policy = new ReconnectPolicy(urls, timings);
    assert.deepEqual(policy.afterEnded(ended({ code: CloseCode.TokenExpired, readyAtMs: Date.now() })), { action: 'retry', immediately: true });
    assert.deepEqual(policy.afterEnded(ended({ code: CloseCode.TokenExpired })), { action: 'retry', immediately: false });
    assert.deepEqual(policy.afterEnded(ended({ upgradeStatus: 401 })), { action: 'retry', immediately: false });
    assert.equal(policy.url, 'ws://a/ws');
  });

  it('with a static token, stops on an expired or refused token', () => {
    const policy = new ReconnectPolicy(urls, timings);
    const expired = policy.afterEnded(ended({ code: CloseCode.TokenExpired, staticToken: true, readyAtMs: Date.now() }));
    assert.equal(expired.action, 'stop');
    assert.ok(expired.action === 'stop' && expired.error instanceof ChatConnectionError);
    assert.equal(expired.error.code, 'token_expired');
    assert.equal(expired.error.closeCode, CloseCode.TokenExpired);
    const refused = policy.afterEnded(ended({ upgradeStatus: 401, staticToken: true }));
    assert.ok(refused.action === 'stop');
    assert.equal(refused.error.code, 'unauthenticated');
    assert.equal(refused.error.closeCode, CloseCode.Abnormal);
  });

  it('grows the delay up to its ceiling, and starts again after a reset or a connection that stayed up', () => {
    const policy = new ReconnectPolicy(urls, timings);
    assert.equal(policy.delayMs(true), 0);
    assert.ok(policy.delayMs(false) < timings.minReconnectDelayMs);
    for (let attempt = 0; attempt < 40; attempt += 1) assert.ok(policy.delayMs(false) < timings.maxReconnectDelayMs);
    policy.reset();
    assert.ok(policy.delayMs(false) < timings.minReconnectDelayMs);
    for (let attempt = 0; attempt < 40; attempt += 1) policy.delayMs(false);
    policy.afterEnded(ended({ readyAtMs: Date.now() - timings.stableConnectionMs }));
    assert.ok(policy.delayMs(false) < timings.minReconnectDelayMs);
  });
});
