import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { apiRequest, createConversation, postMessage, registerUser, type RegisteredUser } from '../support/api-client.js';
import { startApiInProcess, storeSnapshot, type ApiInProcess } from '../support/api-app.js';

/**
 * Hostile requests at every route: malformed and adversarial ids, bodies, queries, headers and
 * tokens. Whatever comes in, the answer has a contract status, a refusal has the contract's error
 * body and leaks nothing, the process keeps serving, and a refused request changes nothing.
 */

const CONTRACT_STATUSES = new Set([200, 201, 204, 400, 401, 403, 404, 409, 413, 415, 429, 503]);
const LEAKS = [/\n\s+at\s/, /\.(ts|js):\d+/, /ioredis|ReplyError|ERR |WRONGTYPE|NOSCRIPT/, /node_modules/];

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    'a:b', '{tag}', '*', '?', 'x\ny', '..', '../../etc/passwd', '%00', '%', '%zz', '__proto__', 'constructor', 'prototype',
    'a'.repeat(65), 'a'.repeat(5000), '💬', 'ALICE', ' alice', 'alice ', '\u0000', 'null', 'undefined', '1e309', '-1',
  ),
);

const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ username: hostileString, password: hostileString }, { requiredKeys: [] }),
  fc.record({ title: fc.oneof(hostileString, fc.jsonValue()), users: fc.oneof(fc.array(hostileString, { maxLength: 5 }), fc.jsonValue()) }, { requiredKeys: [] }),
  fc.record({ text: fc.oneof(hostileString, fc.jsonValue(), fc.constant('x'.repeat(4001))) }, { requiredKeys: [] }),
  // 1.1: a clientId on a post, a read cursor.
  fc.record({ text: fc.oneof(hostileString, fc.constant('hi')), clientId: fc.oneof(hostileString, fc.jsonValue(), fc.constant('same-client-id')) }, { requiredKeys: [] }),
  fc.record({ seq: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, 1, 2, 3, 2 ** 53, -0), hostileString, fc.jsonValue()) }, { requiredKeys: [] }),
  fc.constantFrom('{"__proto__":{"admin":true},"text":"hi"}', '{"constructor":{"prototype":{"x":1}},"title":"t","users":[]}', '[1,2', '{"text":"a"', '"just a string"', 'null', '{"text":"hi","extra":1}'),
);

interface Fixture {
  alice: RegisteredUser;
  bob: RegisteredUser;
  /** Alice's conversation (bob is not in it). */
  conversationId: string;
}

/** Alice's conversation, with a message bob must never see. */
async function alicesConversation(baseUrl: string, alice: RegisteredUser): Promise<string> {
  const conversation = await createConversation(baseUrl, alice.token, [], 'alice only');
  await postMessage(baseUrl, alice.token, conversation.id, 'secret');
  return conversation.id;
}

describe('hostile HTTP input (property)', () => {
  let app: ApiInProcess;
  let fixture: Fixture;

  before(async () => {
    app = await startApiInProcess({ env: { RATE_LIMIT_PER_USER: '100000', RATE_LIMIT_AUTH_PER_IP: '100000', RATE_LIMIT_LOGIN_FAILURES_PER_USERNAME_IP: '100000', RATE_LIMIT_LOGIN_FAILURES_PER_IP: '100000' } });
    const [alice, bob] = [await registerUser(app.url), await registerUser(app.url)];
    fixture = { alice, bob, conversationId: await alicesConversation(app.url, alice) };
  });
  after(async () => {
    await app?.stop();
  });

  it('answers every hostile request within the contract and changes nothing when it refuses', async () => {
    const token = fc.oneof(
      fc.constant(undefined),
      fc.constant('alice'),
      fc.constant('bob'),
      // Only what an HTTP client can put in a header: control characters never reach the server.
      hostileString.filter((value) => /^[\x20-\x7e]*$/.test(value)),
      fc.constant('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.'),
    );
    const path = fc.oneof(
      fc.constantFrom('/api/auth/register', '/api/auth/login', '/api/me', '/api/conversations', '/api/nope', '/healthz', '/api/openapi.json', '/api/asyncapi.json'),
      hostileString.map((order) => `/api/conversations?order=${encodeURIComponent(order)}`),
      fc.constantFrom('own', 'other', 'missing').chain((which) =>
        fc
          .tuple(
            hostileString,
            fc.constantFrom('', '/leave', '/messages', '/messages?after=', '/messages?limit=', '/messages?before=', '/messages?after=1&before=', '/read', '/messages/'),
            // The seq of a message route (1.1 edits and deletions): alice's message is seq 1.
            fc.oneof(hostileString, fc.constantFrom('1', '2', '0', '01', '999999999999999', '9999999999999999', '1e3', '1.0')),
          )
          .map(([id, rest, seq]) => {
            const target = which === 'own' ? fixture.conversationId : which === 'other' ? id : 'AAAAAAAAAAAAAAAA';
            const tail = rest.endsWith('=') ? encodeURIComponent(id) : rest.endsWith('/') ? encodeURIComponent(seq) : '';
            return `/api/conversations/${encodeURIComponent(target)}${rest}${tail}`;
          }),
      ),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE'),
      path,
      token,
      body: fc.option(hostileJson, { nil: undefined }),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', undefined),
    });

    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const bearer = input.token === 'alice' ? fixture.alice.token : input.token === 'bob' ? fixture.bob.token : input.token;
        const before = await storeSnapshot(app);
        const rawBody = input.body === undefined ? undefined : typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
        const response = await apiRequest(app.url, input.method as 'GET', input.path, {
          ...(bearer !== undefined ? { token: bearer } : {}),
          ...(rawBody !== undefined && input.method !== 'GET' ? { rawBody } : {}),
          headers: input.contentType ? { 'content-type': input.contentType } : {},
        });
        assert.ok(CONTRACT_STATUSES.has(response.status), `status ${response.status} for ${input.method} ${input.path}: ${response.text}`);
        for (const leak of LEAKS) assert.doesNotMatch(response.text, leak, `leak in ${response.text}`);
        if (response.status >= 400) {
          const body = response.body as { error?: { code?: unknown; message?: unknown } };
          assert.deepEqual(Object.keys(body ?? {}), ['error'], response.text);
          assert.equal(typeof body.error?.code, 'string');
          assert.equal(typeof body.error?.message, 'string');
          assert.deepEqual(await storeSnapshot(app), before, `a refused ${input.method} ${input.path} changed the store`);
        }
        if (response.status === 204) {
          // Only leaving answers 204, and only alice can leave her conversation (deleting it): give her another.
          assert.equal(`${input.method} ${input.token}`, 'POST alice', `204 for ${input.method} ${input.path}`);
          assert.equal(input.path, `/api/conversations/${fixture.conversationId}/leave`);
          fixture.conversationId = await alicesConversation(app.url, fixture.alice);
        }
        // Only alice may change her message, and only as the contract says.
        if (response.status === 200 && /\/messages\/[^/?]+$/.test(input.path)) {
          assert.equal(input.token, 'alice', `${input.method} ${input.path} answered 200 to ${String(input.token)}`);
          assert.ok(['PATCH', 'DELETE'].includes(input.method));
        }
        // Bob never sees alice's conversation, whatever he sends.
        if (input.token === 'bob') assert.doesNotMatch(response.text, /secret|alice only/);
        assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'admin'), false, 'no prototype pollution');
      }),
      { numRuns: 300 },
    );
    assert.equal((await apiRequest(app.url, 'GET', '/healthz')).status, 200, 'still serving');
  });
});
