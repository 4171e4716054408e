import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiRequest, assertErrorShape, randomUsername, registerUser, type ApiResponse } from '../support/api-client.js';
import { startApiInProcess, type ApiInProcess } from '../support/api-app.js';

/**
 * Login protection without lockout (issue 15): failures are counted per (username, client address)
 * and per address, never per username alone, so a stranger hammering an account from elsewhere
 * cannot keep its owner out.
 */

const PER_USERNAME_AND_IP = 3;
const PER_IP = 5;
const WINDOW_S = 600;

describe('login failures are limited per (username, address) and per address, not per username', () => {
  let app: ApiInProcess;
  let lastOctet = 0;
  /** A fresh client address for each caller of a test, so tests do not share counters. */
  const freshAddress = () => `203.0.113.${(lastOctet += 1)}`;

  const login = (username: string, password: string, address: string): Promise<ApiResponse> =>
    apiRequest(app.url, 'POST', '/api/auth/login', { body: { username, password }, headers: { 'x-forwarded-for': address } });

  function assertRetryAfter(response: ApiResponse): void {
    const retryAfter = Number(response.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_S, `Retry-After ${response.headers.get('retry-after')}`);
  }

  before(async () => {
    app = await startApiInProcess({
      env: {
        RATE_LIMIT_LOGIN_FAILURES_PER_USERNAME_IP: String(PER_USERNAME_AND_IP),
        RATE_LIMIT_LOGIN_FAILURES_PER_IP: String(PER_IP),
        RATE_LIMIT_LOGIN_FAILURE_WINDOW_S: String(WINDOW_S),
        // The per-address request limit is not what these tests are about.
        RATE_LIMIT_AUTH_PER_IP: '1000',
        TRUST_PROXY: 'loopback',
      },
    });
  });
  after(async () => {
    await app?.stop();
  });

  it('a stranger failing for a username from elsewhere never refuses its owner at a clean address', async () => {
    const owner = await registerUser(app.url, randomUsername(), 'the real password', { 'x-forwarded-for': freshAddress() });
    // More failures than the old per-username limit (20 from anywhere), from one address and many.
    const attacker = freshAddress();
    for (let i = 0; i < 25; i += 1) {
      const status = (await login(owner.username, `wrong guess ${i}`, i % 2 === 0 ? attacker : freshAddress())).status;
      assert.ok(status === 401 || status === 429, `guess ${i}: ${status}`);
    }
    const ownLogin = await login(owner.username, owner.password, freshAddress());
    assert.equal(ownLogin.status, 200, ownLogin.text);
  });

  it('refuses an address with 429 and Retry-After once it failed too often in a row for a username, right password or not', async () => {
    const owner = await registerUser(app.url, randomUsername(), 'the real password', { 'x-forwarded-for': freshAddress() });
    const attacker = freshAddress();
    for (let i = 0; i < PER_USERNAME_AND_IP; i += 1) assertErrorShape(await login(owner.username, `wrong guess ${i}`, attacker), 401, 'unauthenticated');
    const refused = await login(owner.username, 'another guess', attacker);
    assertErrorShape(refused, 429, 'rate_limited');
    assertRetryAfter(refused);
    // Refused before the password is checked, so a refusal reveals nothing about it.
    assertErrorShape(await login(owner.username, owner.password, attacker), 429, 'rate_limited');
    // Other usernames from that address are not refused by this pair's count.
    assertErrorShape(await login(randomUsername('ghost'), 'some password', attacker), 401, 'unauthenticated');
    // Nor is the username from any other address.
    assert.equal((await login(owner.username, owner.password, freshAddress())).status, 200);
  });

  it('a successful login resets the count of its (username, address)', async () => {
    const user = await registerUser(app.url, randomUsername(), 'the real password', { 'x-forwarded-for': freshAddress() });
    const address = freshAddress();
    for (let i = 0; i < PER_USERNAME_AND_IP - 1; i += 1) assertErrorShape(await login(user.username, `a typo number ${i}`, address), 401, 'unauthenticated');
    assert.equal((await login(user.username, user.password, address)).status, 200);
    // The count starts over: the limit's worth of failures again before a refusal.
    for (let i = 0; i < PER_USERNAME_AND_IP; i += 1) assertErrorShape(await login(user.username, `typo again ${i}`, address), 401, 'unauthenticated');
    const refused = await login(user.username, user.password, address);
    assertErrorShape(refused, 429, 'rate_limited');
    assertRetryAfter(refused);
  });

  it('limits the failures of one address over every username, and only that address', async () => {
    const address = freshAddress();
    const victim = await registerUser(app.url, randomUsername(), 'the real password', { 'x-forwarded-for': freshAddress() });
    // Spread over usernames (known or not) so no (username, address) pair reaches its own limit.
    const tried = [victim.username, randomUsername('ghost'), randomUsername('ghost')];
    for (let i = 0; i < PER_IP; i += 1) assertErrorShape(await login(tried[i % tried.length] ?? '', `password spray ${i}`, address), 401, 'unauthenticated');
    const refused = await login(randomUsername('ghost'), 'spray again', address);
    assertErrorShape(refused, 429, 'rate_limited');
    assertRetryAfter(refused);
    assertErrorShape(await login(victim.username, victim.password, address), 429, 'rate_limited');
    assert.equal((await login(victim.username, victim.password, freshAddress())).status, 200);
  });

  it('counts only failures: logins that succeed never use up an address', async () => {
    const address = freshAddress();
    const user = await registerUser(app.url, randomUsername(), 'the real password', { 'x-forwarded-for': address });
    for (let i = 0; i < PER_IP + PER_USERNAME_AND_IP + 2; i += 1) {
      const response = await login(user.username, user.password, address);
      assert.equal(response.status, 200, `login ${i}: ${response.text}`);
    }
    // And the failures before a success are forgiven at the address too, not only for the pair.
    for (let round = 0; round < PER_IP; round += 1) {
      assertErrorShape(await login(user.username, `a typo number ${round}`, address), 401, 'unauthenticated');
      assert.equal((await login(user.username, user.password, address)).status, 200, `round ${round}`);
    }
  });

  it('a wrong password is still the same 401 as an unknown user', async () => {
    const user = await registerUser(app.url, randomUsername(), 'the real password', { 'x-forwarded-for': freshAddress() });
    const wrongPassword = await login(user.username, 'not the password', freshAddress());
    const unknownUser = await login(randomUsername('ghost'), user.password, freshAddress());
    assertErrorShape(wrongPassword, 401, 'unauthenticated');
    assert.deepEqual(wrongPassword.body, unknownUser.body);
    assert.deepEqual(wrongPassword.body, { error: { code: 'unauthenticated', message: 'wrong username or password' } });
  });

  it('concurrent guesses cannot slip past the limit between a check and a count', async () => {
    const user = await registerUser(app.url, randomUsername(), 'the real password', { 'x-forwarded-for': freshAddress() });
    const address = freshAddress();
    const answers = await Promise.all(Array.from({ length: PER_USERNAME_AND_IP * 4 }, (_, i) => login(user.username, `burst guess ${i}`, address)));
    const statuses = answers.map((answer) => answer.status).sort();
    assert.deepEqual(statuses, [...Array<number>(PER_USERNAME_AND_IP).fill(401), ...Array<number>(PER_USERNAME_AND_IP * 3).fill(429)]);
  });

  it('a bad body is refused before anything is counted', async () => {
    const user = await registerUser(app.url, randomUsername(), 'the real password', { 'x-forwarded-for': freshAddress() });
    const address = freshAddress();
    for (let i = 0; i < PER_IP + 1; i += 1) {
      const response = await apiRequest(app.url, 'POST', '/api/auth/login', {
        body: { username: user.username, password: 'x', extra: i },
        headers: { 'x-forwarded-for': address },
      });
      assertErrorShape(response, 400, 'invalid_request');
    }
    assert.equal((await login(user.username, user.password, address)).status, 200);
  });
});
