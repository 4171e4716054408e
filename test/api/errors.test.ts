import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { keysOf, startApiInProcess, type ApiInProcess } from '../support/api-app.js';
import {
  apiRequest,
  assertErrorShape,
  createConversation,
  randomUsername,
  registerUser,
  type ApiResponse,
  type RegisteredUser,
} from '../support/api-client.js';

let app: ApiInProcess;
let alice: RegisteredUser;
let conversationId: string;

before(async () => {
  app = await startApiInProcess();
  alice = await registerUser(app.url);
  conversationId = (await createConversation(app.url, alice.token, [], 'errors')).id;
});

after(async () => {
  await app?.stop();
});

/** Sends the body in chunks without Content-Length, which fetch cannot do without a stream. */
function postChunked(path: string, chunks: string[], headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, app.url), { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    // The server may answer 413 and close before the whole body is sent; that is the point.
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('bodies that are not JSON', () => {
  const targets = (): [string, string | undefined][] => [
    ['/api/auth/register', undefined],
    ['/api/auth/login', undefined],
    ['/api/conversations', alice.token],
    [`/api/conversations/${conversationId}/messages`, alice.token],
  ];

  for (const [label, rawBody] of [
    ['truncated JSON', '{"username": "bob", "password": '],
    ['single quotes', "{'text': 'hi'}"],
    ['a trailing comma', '{"text": "hi",}'],
    ['plain words', 'hello'],
    ['a bare string (strict JSON bodies only)', '"hello"'],
    ['a bare number', '42'],
    ['null', 'null'],
  ] as const) {
    test(`${label}: 400 invalid_json`, async () => {
      for (const [path, token] of targets()) {
        const response = await apiRequest(app.url, 'POST', path, {
          rawBody,
          headers: { 'content-type': 'application/json' },
          ...(token ? { token } : {}),
        });
        assertErrorShape(response, 400, 'invalid_json');
      }
    });
  }

  test('an empty JSON body is a 400', async () => {
    for (const [path, token] of targets()) {
      const response = await apiRequest(app.url, 'POST', path, {
        rawBody: '',
        headers: { 'content-type': 'application/json' },
        ...(token ? { token } : {}),
      });
      const code = (response.body as { error?: { code?: string } } | undefined)?.error?.code;
      assert.ok(code === 'invalid_json' || code === 'invalid_request', `${path}: ${response.status} ${response.text}`);
      assertErrorShape(response, 400, code);
    }
  });

  test('PATCH with a non-JSON body is 400 invalid_json', async () => {
    const response = await apiRequest(app.url, 'PATCH', `/api/conversations/${conversationId}`, {
      token: alice.token,
      rawBody: '{title:',
      headers: { 'content-type': 'application/json' },
    });
    assertErrorShape(response, 400, 'invalid_json');
  });
});

describe('content types', () => {
  for (const [label, contentType] of [
    ['text/plain', 'text/plain'],
    ['form-urlencoded', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['application/xml', 'application/xml'],
  ] as const) {
    test(`${label}: 415 unsupported_media_type, even when the text is JSON`, async () => {
      const body = JSON.stringify({ username: randomUsername(), password: 'long enough password' });
      const response = await apiRequest(app.url, 'POST', '/api/auth/register', { rawBody: body, headers: { 'content-type': contentType } });
      assertErrorShape(response, 415, 'unsupported_media_type');
      const patch = await apiRequest(app.url, 'PATCH', `/api/conversations/${conversationId}`, {
        token: alice.token,
        rawBody: JSON.stringify({ title: 'x' }),
        headers: { 'content-type': contentType },
      });
      assertErrorShape(patch, 415, 'unsupported_media_type');
    });
  }

  test('a body without a content type is 415', async () => {
    const response = await apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/messages`, {
      token: alice.token,
      rawBody: JSON.stringify({ text: 'hi' }),
    });
    assertErrorShape(response, 415, 'unsupported_media_type');
  });

  test('a POST without a body is not refused for its type: a route that needs one answers 400, leave 204', async () => {
    // fetch sends such a POST with Content-Length: 0 and no Content-Type.
    const keysBefore = await keysOf(app);
    for (const path of ['/api/conversations', `/api/conversations/${conversationId}/messages`]) {
      assertErrorShape(await apiRequest(app.url, 'POST', path, { token: alice.token }), 400, 'invalid_request');
    }
    assertErrorShape(await apiRequest(app.url, 'PATCH', `/api/conversations/${conversationId}`, { token: alice.token }), 400, 'invalid_request');
    assert.deepEqual(await keysOf(app), keysBefore, 'nothing written');
    // An empty chunked body cannot be told from a body before it is read: it needs a JSON type.
    const chunked = await postChunked(`/api/conversations/${conversationId}/messages`, [], { authorization: `Bearer ${alice.token}` });
    assert.equal(chunked.status, 415);
    const own = await createConversation(app.url, alice.token, [], 'to leave');
    assert.equal((await apiRequest(app.url, 'POST', `/api/conversations/${own.id}/leave`, { token: alice.token })).status, 204);
  });

  test('application/json with charset=utf-8 and in other casing is accepted', async () => {
    for (const contentType of ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8']) {
      const response = await apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/messages`, {
        token: alice.token,
        rawBody: JSON.stringify({ text: contentType }),
        headers: { 'content-type': contentType },
      });
      assert.equal(response.status, 201, `${contentType}: ${response.text}`);
    }
  });

  test('a charset other than UTF-8 is refused with a 4xx error body', async () => {
    const response = await apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/messages`, {
      token: alice.token,
      rawBody: JSON.stringify({ text: 'latin' }),
      headers: { 'content-type': 'application/json; charset=latin1' },
    });
    assert.ok(response.status === 400 || response.status === 415, `${response.status} ${response.text}`);
    assertErrorShape(response, response.status, response.status === 400 ? 'invalid_json' : 'unsupported_media_type');
  });
});

describe('body size', () => {
  test('a body over the limit (65536 bytes) is 413 payload_too_large', async () => {
    const text = 'x'.repeat(70 * 1024);
    const response = await apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/messages`, {
      token: alice.token,
      body: { text },
    });
    assertErrorShape(response, 413, 'payload_too_large');
    const register = await apiRequest(app.url, 'POST', '/api/auth/register', {
      body: { username: randomUsername(), password: text },
    });
    assertErrorShape(register, 413, 'payload_too_large');
  });

  test('a chunked body over the limit (no Content-Length) is 413 too', async () => {
    const chunk = `"${'y'.repeat(8 * 1024)}",`;
    const response = await postChunked(
      `/api/conversations/${conversationId}/messages`,
      ['{"pad":[', ...Array.from({ length: 10 }, () => chunk), '"end"],"text":"hi"}'],
      { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
    );
    assert.equal(response.status, 413, JSON.stringify(response.body));
    assert.deepEqual(Object.keys((response.body as { error: object }).error).sort(), ['code', 'message']);
    assert.equal((response.body as { error: { code: string } }).error.code, 'payload_too_large');
  });

  test('a gzip body that inflates past the limit is 413, however small on the wire', async () => {
    const inflated = JSON.stringify({ text: 'hi', pad: ' '.repeat(1024 * 1024) });
    const compressed = gzipSync(inflated);
    assert.ok(compressed.length < 4096);
    const response = await apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/messages`, {
      token: alice.token,
      rawBody: compressed,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    assertErrorShape(response, 413, 'payload_too_large');
  });

  test('a body just under the limit reaches validation (400, not 413)', async () => {
    const response = await apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/messages`, {
      token: alice.token,
      body: { text: 'x'.repeat(60 * 1024) },
    });
    assertErrorShape(response, 400, 'invalid_request');
  });
});

describe('prototype pollution attempts', () => {
  const protoBodies: [string, string, string][] = [
    ['register with __proto__', '/api/auth/register', `{"username":"${randomUsername()}","password":"long enough password","__proto__":{"polluted":"yes"}}`],
    ['register with constructor.prototype', '/api/auth/register', `{"username":"${randomUsername()}","password":"long enough password","constructor":{"prototype":{"polluted":"yes"}}}`],
    ['login with __proto__ only', '/api/auth/login', '{"__proto__":{"username":"admin","password":"long enough password"}}'],
    ['conversation with __proto__', '/api/conversations', '{"title":"x","users":[],"__proto__":{"polluted":"yes","isAdmin":true}}'],
    ['conversation with nested __proto__ in users', '/api/conversations', '{"title":"x","users":{"__proto__":[]}}'],
    ['message with constructor', '/api/conversations/:id/messages', '{"text":"hi","constructor":{"prototype":{"polluted":"yes"}}}'],
  ];

  for (const [label, path, rawBody] of protoBodies) {
    test(`${label}: refused with 400 and no pollution`, async () => {
      const keysBefore = await keysOf(app);
      const response = await apiRequest(app.url, 'POST', path.replace(':id', conversationId), {
        rawBody,
        headers: { 'content-type': 'application/json' },
        token: alice.token,
      });
      assertErrorShape(response, 400, 'invalid_request');
      // The app runs in this process, so pollution would show here.
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
      assert.deepEqual(await keysOf(app), keysBefore, 'nothing written');
    });
  }

  test('PATCH with __proto__ is refused and the conversation is unchanged', async () => {
    const conversation = await createConversation(app.url, alice.token, [], 'proto');
    const response = await apiRequest(app.url, 'PATCH', `/api/conversations/${conversation.id}`, {
      token: alice.token,
      rawBody: '{"title":"changed","__proto__":{"users":["mallory"]}}',
      headers: { 'content-type': 'application/json' },
    });
    assertErrorShape(response, 400, 'invalid_request');
    const after = await apiRequest(app.url, 'GET', `/api/conversations/${conversation.id}`, { token: alice.token });
    assert.deepEqual(after.body, conversation);
  });

  test('the server still works afterwards', async () => {
    const user = await registerUser(app.url);
    const me = await apiRequest(app.url, 'GET', '/api/me', { token: user.token });
    assert.deepEqual(Object.keys(me.body as object).sort(), ['createdAt', 'username']);
  });
});

describe('unknown routes', () => {
  for (const [method, path] of [
    ['GET', '/'],
    ['GET', '/nope'],
    ['POST', '/nope'],
    ['GET', '/api/nope'],
    ['DELETE', '/api/conversations/abc'],
    ['GET', '/api/conversations/abc/messages/1'],
    ['GET', '/api/auth/register'],
  ] as const) {
    test(`${method} ${path} (authenticated) is 404 not_found JSON`, async () => {
      const response = await apiRequest(app.url, method, path, { token: alice.token });
      assertErrorShape(response, 404, 'not_found');
    });
  }

  test('an unknown /api path is a 404 without a token too (not a 401)', async () => {
    for (const path of ['/api/nope', '/api/conversationsX', '/api/v2/me']) {
      assertErrorShape(await apiRequest(app.url, 'GET', path), 404, 'not_found');
    }
    // A route that exists still wants its token.
    assertErrorShape(await apiRequest(app.url, 'GET', '/api/conversations/abc'), 401, 'unauthenticated');
  });
});

describe('response headers', () => {
  async function samples(): Promise<[string, ApiResponse][]> {
    return [
      ['200', await apiRequest(app.url, 'GET', '/api/me', { token: alice.token })],
      ['201', await apiRequest(app.url, 'POST', `/api/conversations/${conversationId}/messages`, { token: alice.token, body: { text: 'h' } })],
      ['400', await apiRequest(app.url, 'POST', '/api/auth/login', { body: {} })],
      ['401', await apiRequest(app.url, 'GET', '/api/me')],
      ['404', await apiRequest(app.url, 'GET', '/nope')],
      ['415', await apiRequest(app.url, 'POST', '/api/auth/login', { rawBody: 'x', headers: { 'content-type': 'text/plain' } })],
      ['healthz', await apiRequest(app.url, 'GET', '/healthz')],
    ];
  }

  test('no X-Powered-By, and helmet security headers on every answer', async () => {
    for (const [label, response] of await samples()) {
      const { headers } = response;
      assert.equal(headers.get('x-powered-by'), null, `${label}: x-powered-by`);
      assert.equal(headers.get('x-content-type-options'), 'nosniff', `${label}: x-content-type-options`);
      assert.equal(headers.get('x-frame-options'), 'SAMEORIGIN', `${label}: x-frame-options`);
      assert.ok(headers.get('content-security-policy'), `${label}: content-security-policy`);
      assert.ok(headers.get('strict-transport-security'), `${label}: strict-transport-security`);
      assert.equal(headers.get('referrer-policy'), 'no-referrer', `${label}: referrer-policy`);
      assert.equal(headers.get('cross-origin-opener-policy'), 'same-origin', `${label}: cross-origin-opener-policy`);
      assert.equal(headers.get('x-dns-prefetch-control'), 'off', `${label}: x-dns-prefetch-control`);
    }
  });

  test('X-Request-Id: echoed when sane, replaced when not, generated when absent', async () => {
    const echoed = await apiRequest(app.url, 'GET', '/healthz', { headers: { 'x-request-id': 'trace-123.abc:def' } });
    assert.equal(echoed.headers.get('x-request-id'), 'trace-123.abc:def');
    for (const insane of ['has space', 'x'.repeat(65), 'semi;colon', '<script>']) {
      const replaced = await apiRequest(app.url, 'GET', '/healthz', { headers: { 'x-request-id': insane } });
      const id = replaced.headers.get('x-request-id') ?? '';
      assert.notEqual(id, insane);
      assert.match(id, /^[A-Za-z0-9_.:-]{1,64}$/);
    }
    const generated = await apiRequest(app.url, 'GET', '/healthz');
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});
