import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiRequest, assertErrorShape, randomUsername, registerUser } from '../support/api-client.js';
import { keysOf, startApiInProcess, type ApiInProcess } from '../support/api-app.js';

describe('rate limits, client address and CORS', () => {
  let app: ApiInProcess;

  before(async () => {
    app = await startApiInProcess({
      env: {
        RATE_LIMIT_AUTH_PER_IP: '6',
        RATE_LIMIT_AUTH_PER_USERNAME: '3',
        RATE_LIMIT_PER_USER: '5',
        RATE_LIMIT_WINDOW_S: '60',
        TRUST_PROXY: 'loopback',
        CORS_ORIGINS: 'https://chat.example.com,http://localhost:5173',
      },
    });
  });
  after(async () => {
    await app?.stop();
  });

  /**
   * Alice and bob, registered from their own addresses (so the per-address sign-in limit is not
   * what refuses), in a conversation alice created: that request used one of alice's hits.
   */
  async function pairInConversation(aliceAddress: string, bobAddress: string) {
    const alice = await registerUser(app.url, randomUsername(), 'long enough password', { 'x-forwarded-for': aliceAddress });
    const bob = await registerUser(app.url, randomUsername(), 'long enough password', { 'x-forwarded-for': bobAddress });
    const created = await apiRequest(app.url, 'POST', '/api/conversations', { token: alice.token, body: { title: 't', users: [bob.username] } });
    assert.equal(created.status, 201, created.text);
    return { alice, bob, conversationId: (created.body as { id: string }).id };
  }

  it('limits each user: 429 with Retry-After past the limit, other users unaffected', async () => {
    const alice = await registerUser(app.url, randomUsername(), 'long enough password', { 'x-forwarded-for': '198.51.100.20' });
    const bob = await registerUser(app.url, randomUsername(), 'long enough password', { 'x-forwarded-for': '198.51.100.21' });
    for (let i = 0; i < 5; i += 1) assert.equal((await apiRequest(app.url, 'GET', '/api/me', { token: alice.token })).status, 200);
    const limited = await apiRequest(app.url, 'GET', '/api/conversations', { token: alice.token });
    assertErrorShape(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal((await apiRequest(app.url, 'GET', '/api/me', { token: bob.token })).status, 200);
  });

  it('posting a message counts against the same per-user limit, and a refused post stores nothing', async () => {
    const { alice, bob, conversationId } = await pairInConversation('198.51.100.30', '198.51.100.31');
    const post = (text: string) =>
      apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/messages`, { token: alice.token, body: { text } });
    // A body refused as invalid is not counted: nothing was attempted.
    assert.equal((await apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/messages`, { token: alice.token, body: { text: '' } })).status, 400);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await post(`m${i}`)).status);
    assert.deepEqual(statuses, [201, 201, 201, 201, 429], 'creating the conversation used one of the five');
    const limited = await post('one more');
    assertErrorShape(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(await app.redis.zcard(app.keys.messages(conversationId)), 4, 'refused posts stored nothing');
    assert.equal(await app.redis.hget(app.keys.conversation(conversationId), 'seq'), '4');
    // The other routes share the counter.
    assertErrorShape(await apiRequest(app.url, 'GET', '/api/me', { token: alice.token }), 429, 'rate_limited');
    // Bob is not limited by Alice's posts.
    assert.equal((await apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/messages`, { token: bob.token, body: { text: 'hi' } })).status, 201);
  });

  it('reading history backwards and leaving count against the per-user limit; a refused leave leaves the member in', async () => {
    const { bob, conversationId } = await pairInConversation('198.51.100.40', '198.51.100.41');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      statuses.push((await apiRequest(app.url, 'GET', `/api/conversations/${conversationId}/messages?before=${100 - i}`, { token: bob.token })).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    const keysBefore = await keysOf(app);
    const limited = await apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/leave`, { token: bob.token });
    assertErrorShape(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.notEqual(await app.redis.zscore(app.keys.members(conversationId), bob.username), null, 'still a member');
    assert.deepEqual(await app.redis.zrange(app.keys.userConversations(bob.username), 0, -1), [conversationId]);
    assert.deepEqual(await keysOf(app), keysBefore);
  });

  it('limits failed logins per username from one address (RATE_LIMIT_AUTH_PER_USERNAME, its former name), never from every address', async () => {
    const target = await registerUser(app.url, randomUsername(), 'the real password', { 'x-forwarded-for': '198.51.100.1' });
    const attacker = '203.0.113.10';
    for (let i = 0; i < 3; i += 1) {
      const wrong = await apiRequest(app.url, 'POST', '/api/auth/login', {
        body: { username: target.username, password: `guess number ${i}` },
        headers: { 'x-forwarded-for': attacker },
      });
      assertErrorShape(wrong, 401, 'unauthenticated');
    }
    const limited = await apiRequest(app.url, 'POST', '/api/auth/login', {
      body: { username: target.username, password: 'the real password' },
      headers: { 'x-forwarded-for': attacker },
    });
    assertErrorShape(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1, `Retry-After ${limited.headers.get('retry-after')}`);
    // The owner, elsewhere, is not locked out by a stranger's failures.
    const owner = await apiRequest(app.url, 'POST', '/api/auth/login', {
      body: { username: target.username, password: 'the real password' },
      headers: { 'x-forwarded-for': '203.0.113.99' },
    });
    assert.equal(owner.status, 200, owner.text);
  });

  it('limits register/login per client address, taken from X-Forwarded-For behind a trusted proxy', async () => {
    const address = '192.0.2.77';
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      const response = await apiRequest(app.url, 'POST', '/api/auth/register', {
        body: { username: randomUsername(), password: 'long enough password' },
        headers: { 'x-forwarded-for': address },
      });
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 201, 429, 429]);
    // Another client behind the same proxy is not throttled with it.
    const other = await apiRequest(app.url, 'POST', '/api/auth/register', {
      body: { username: randomUsername(), password: 'long enough password' },
      headers: { 'x-forwarded-for': '192.0.2.78' },
    });
    assert.equal(other.status, 201);
  });

  it('answers CORS preflights for configured origins only', async () => {
    const allowed = await apiRequest(app.url, 'OPTIONS', '/api/conversations', {
      headers: { origin: 'https://chat.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://chat.example.com');
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization/);

    const refused = await apiRequest(app.url, 'OPTIONS', '/api/conversations', {
      headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
    });
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
  });
});

describe('without a trusted proxy', () => {
  let app: ApiInProcess;
  before(async () => {
    app = await startApiInProcess({ env: { RATE_LIMIT_AUTH_PER_IP: '3' } });
  });
  after(async () => {
    await app?.stop();
  });

  it('ignores X-Forwarded-For, so a client cannot pick its own address to dodge the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await apiRequest(app.url, 'POST', '/api/auth/register', {
        body: { username: randomUsername(), password: 'long enough password' },
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
      });
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [201, 201, 201, 429]);
  });

  it('sends no CORS headers when no origin is configured', async () => {
    const response = await apiRequest(app.url, 'GET', '/healthz', { headers: { origin: 'https://chat.example.com' } });
    assert.equal(response.headers.get('access-control-allow-origin'), null);
  });
});
