import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { connectRedis, createKeys, createLoginFailureGuard, createRateLimiter, waitForRedis, type LoginAttempt, type Redis } from '@chat/store';

/** The counters themselves: what the api tests cannot see (expiries, a window that reset meanwhile, hash tags). */
describe('login failure guard (count-rate-hits-if-room-2, forget-rate-hits-2)', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  const keys = createKeys(`t${randomBytes(6).toString('hex')}`);
  const limits = { perUsernameAndAddress: 2, perAddress: 3, windowMs: 60_000 };

  before(async () => {
    server = await startRedisServer({});
    redis = connectRedis({ url: server.url, name: 'test:login-failure-guard', role: 'command' });
    await waitForRedis(redis, 10_000);
  });
  after(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  const guard = () => createLoginFailureGuard(createRateLimiter(redis, keys), keys, limits);

  async function admitted(username: string, address: string | undefined): Promise<LoginAttempt> {
    const admission = await guard().admit(username, address);
    assert.ok(admission.allowed, `${username} from ${address} is admitted`);
    return admission;
  }

  async function assertExpires(key: string): Promise<void> {
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= limits.windowMs, `${key} expires (PTTL ${ttl})`);
  }

  test('the pair and the address counters share the address as hash tag, and both expire', async () => {
    const address = '2001:db8::7';
    await admitted('ann', address);
    const pair = keys.loginFailures(address, 'ann');
    const total = keys.loginFailures(address);
    assert.equal(/\{([^}]*)\}/.exec(pair)?.[1], address);
    assert.equal(/\{([^}]*)\}/.exec(total)?.[1], address);
    assert.equal(await redis.get(pair), '1');
    assert.equal(await redis.get(total), '1');
    await assertExpires(pair);
    await assertExpires(total);
  });

  test('a refused attempt is counted on neither counter, and says how long to wait', async () => {
    const address = '192.0.2.10';
    await admitted('bea', address);
    await admitted('bea', address);
    const refused = await guard().admit('bea', address);
    assert.equal(refused.allowed, false);
    assert.ok(!refused.allowed && refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60);
    assert.equal(await redis.get(keys.loginFailures(address, 'bea')), '2');
    assert.equal(await redis.get(keys.loginFailures(address)), '2', 'the address was not charged for the refused attempt');
  });

  test('a success forgets the pair and takes its failures back from the address, never below zero', async () => {
    const address = '192.0.2.20';
    await admitted('cy', address);
    await admitted('dee', address);
    const attempt = await admitted('dee', address);
    await attempt.succeeded();
    assert.equal(await redis.exists(keys.loginFailures(address, 'dee')), 0);
    assert.equal(await redis.get(keys.loginFailures(address)), '1', "cy's failure stays");
    await assertExpires(keys.loginFailures(address));

    // The address's window reset between the attempt and its success: nothing to take back.
    const late = await admitted('eve', address);
    await redis.del(keys.loginFailures(address));
    await late.succeeded();
    assert.equal(await redis.exists(keys.loginFailures(address)), 0, 'no counter without an expiry, no negative count');
  });

  test('an address that is not a plain IP is counted as one unknown subject, not put in a key', async () => {
    await admitted('fay', undefined);
    await admitted('fay', 'not an {address}');
    assert.equal(await redis.get(keys.loginFailures('unknown', 'fay')), '2');
  });
});
