import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { ISO_UTC, apiRequest, assertErrorShape, randomUsername, registerUser } from '../support/api-client.js';
import { sharedApiInProcess } from '../support/shared-fixtures.js';

const app = sharedApiInProcess();

const PASSWORD = 'correct horse battery';

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('POST /api/auth/register', () => {
  test('201 with {user:{username,createdAt}, token, expiresAt} and nothing else', async () => {
    const username = randomUsername();
    const before = Date.now();
    const response = await apiRequest(app.url, 'POST', '/api/auth/register', { body: { username, password: PASSWORD } });
    assert.equal(response.status, 201, response.text);
    const body = response.body as { user: { username: string; createdAt: string }; token: string; expiresAt: string };
    assert.deepEqual(Object.keys(body).sort(), ['expiresAt', 'token', 'user']);
    assert.deepEqual(Object.keys(body.user).sort(), ['createdAt', 'username'], 'no password hash in the answer');
    assert.equal(body.user.username, username);
    assert.match(body.user.createdAt, ISO_UTC);
    assert.ok(Date.parse(body.user.createdAt) >= before - 1000);
    assert.match(body.expiresAt, ISO_UTC);
    const ttlMs = Date.parse(body.expiresAt) - Date.now();
    assert.ok(ttlMs > 3500_000 && ttlMs <= 3601_000, `expiresAt about an hour away, got ${ttlMs} ms`);

    const claims = jwt.verify(body.token, app.jwtSecret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    assert.equal(claims.sub, username);
    assert.equal(typeof claims.exp, 'number');
    assert.equal((claims.exp ?? 0) * 1000, Date.parse(body.expiresAt));
    assert.doesNotMatch(response.text, /scrypt|passwordHash/);
  });

  test('the password is stored hashed, never as given', async () => {
    const user = await registerUser(app.url);
    const stored = await app.redis.get(app.keys.user(user.username));
    assert.ok(stored !== null, 'user record exists');
    assert.ok(!stored.includes(user.password), 'no plain-text password in Redis');
    assert.match(stored, /scrypt\$/);
  });

  test('a taken username is 409 conflict', async () => {
    const user = await registerUser(app.url);
    const response = await apiRequest(app.url, 'POST', '/api/auth/register', {
      body: { username: user.username, password: 'another password' },
    });
    assertErrorShape(response, 409, 'conflict');
    // The first account still logs in with its own password.
    const login = await apiRequest(app.url, 'POST', '/api/auth/login', { body: { username: user.username, password: user.password } });
    assert.equal(login.status, 200, login.text);
  });

  test('concurrent registrations of one name: exactly one 201, the rest 409', async () => {
    const username = randomUsername();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        apiRequest(app.url, 'POST', '/api/auth/register', { body: { username, password: `password-${i}` } }),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    for (const response of responses.filter((r) => r.status === 409)) assertErrorShape(response, 409, 'conflict');
  });

  test('the shortest and longest usernames and passwords are accepted', async () => {
    for (const [username, password] of [
      ['x_', 'x'.repeat(8)],
      [randomUsername('long').padEnd(32, '9').slice(0, 32), 'y'.repeat(256)],
      [`a.b-c_${randomUsername().slice(2, 10)}`, 'pässwörd ✓ with unicode'],
    ] as const) {
      const response = await apiRequest(app.url, 'POST', '/api/auth/register', { body: { username, password } });
      assert.equal(response.status, 201, `${username}: ${response.text}`);
    }
  });

  for (const [label, username] of [
    ['upper case', 'Alice'],
    ['one character', 'a'],
    ['33 characters', 'a'.repeat(33)],
    ['a colon (Redis key separator)', 'ab:cd'],
    ['a star (glob)', 'ab*'],
    ['braces (hash tag)', 'a{b}'],
    ['a space', 'ab cd'],
    ['a slash', 'ab/cd'],
    ['non-ASCII', 'aliçe'],
    ['a trailing newline', 'alice\n'],
    ['a NUL byte', 'ali\u0000ce'],
    ['empty', ''],
    ['a number', 12345],
    ['null', null],
  ] as const) {
    test(`a username with ${label} is 400 invalid_request`, async () => {
      const response = await apiRequest(app.url, 'POST', '/api/auth/register', { body: { username, password: PASSWORD } });
      assertErrorShape(response, 400, 'invalid_request');
    });
  }

  for (const [label, password] of [
    ['7 characters', 'x'.repeat(7)],
    ['257 characters', 'x'.repeat(257)],
    ['empty', ''],
    ['a number', 12345678],
    ['an object', { value: 'secret secret' }],
  ] as const) {
    test(`a password of ${label} is 400 invalid_request`, async () => {
      const response = await apiRequest(app.url, 'POST', '/api/auth/register', {
        body: { username: randomUsername(), password },
      });
      assertErrorShape(response, 400, 'invalid_request');
    });
  }

  test('unknown fields are 400 and create nothing', async () => {
    const username = randomUsername();
    const response = await apiRequest(app.url, 'POST', '/api/auth/register', {
      body: { username, password: PASSWORD, admin: true },
    });
    assertErrorShape(response, 400, 'invalid_request');
    assert.equal(await app.redis.exists(app.keys.user(username)), 0);
  });

  for (const [label, body] of [
    ['no username', { password: PASSWORD }],
    ['no password', { username: 'someone' }],
    ['an empty object', {}],
    ['an array', [{ username: 'someone', password: PASSWORD }]],
  ] as const) {
    test(`a body with ${label} is 400 invalid_request`, async () => {
      const response = await apiRequest(app.url, 'POST', '/api/auth/register', { body });
      assertErrorShape(response, 400, 'invalid_request');
    });
  }

  test('a password is never echoed in an error message', async () => {
    const secret = `leak-${'z'.repeat(300)}`;
    const response = await apiRequest(app.url, 'POST', '/api/auth/register', {
      body: { username: randomUsername(), password: secret },
    });
    assertErrorShape(response, 400, 'invalid_request');
    assert.ok(!response.text.includes('leak-'), response.text);
  });
});

describe('POST /api/auth/login', () => {
  test('200 with the user (same createdAt as at register) and a fresh token', async () => {
    const username = randomUsername();
    const registered = await apiRequest(app.url, 'POST', '/api/auth/register', { body: { username, password: PASSWORD } });
    assert.equal(registered.status, 201);
    const response = await apiRequest(app.url, 'POST', '/api/auth/login', { body: { username, password: PASSWORD } });
    assert.equal(response.status, 200, response.text);
    const body = response.body as { user: unknown; token: string; expiresAt: string };
    assert.deepEqual(Object.keys(body).sort(), ['expiresAt', 'token', 'user']);
    assert.deepEqual(body.user, (registered.body as { user: unknown }).user);
    assert.match(body.expiresAt, ISO_UTC);
    const me = await apiRequest(app.url, 'GET', '/api/me', { token: body.token });
    assert.equal(me.status, 200, me.text);
  });

  test('a wrong password and an unknown user get the same 401', async () => {
    const user = await registerUser(app.url);
    const wrongPassword = await apiRequest(app.url, 'POST', '/api/auth/login', {
      body: { username: user.username, password: 'not the password' },
    });
    const unknownUser = await apiRequest(app.url, 'POST', '/api/auth/login', {
      body: { username: randomUsername('ghost'), password: user.password },
    });
    assertErrorShape(wrongPassword, 401, 'unauthenticated');
    assertErrorShape(unknownUser, 401, 'unauthenticated');
    assert.deepEqual(wrongPassword.body, unknownUser.body, 'the answer does not reveal whether the user exists');
  });

  test('unknown fields and bad usernames are 400', async () => {
    assertErrorShape(
      await apiRequest(app.url, 'POST', '/api/auth/login', { body: { username: 'someone', password: PASSWORD, remember: true } }),
      400,
      'invalid_request',
    );
    assertErrorShape(
      await apiRequest(app.url, 'POST', '/api/auth/login', { body: { username: 'Some One', password: PASSWORD } }),
      400,
      'invalid_request',
    );
  });
});

describe('GET /api/me', () => {
  let user: Awaited<ReturnType<typeof registerUser>>;

  before(async () => {
    user = await registerUser(app.url);
  });

  test('a good token gives 200 User', async () => {
    const response = await apiRequest(app.url, 'GET', '/api/me', { token: user.token });
    assert.equal(response.status, 200, response.text);
    const body = response.body as { username: string; createdAt: string };
    assert.deepEqual(Object.keys(body).sort(), ['createdAt', 'username']);
    assert.equal(body.username, user.username);
    assert.match(body.createdAt, ISO_UTC);
  });

  test('the scheme is case-insensitive ("bearer")', async () => {
    const response = await apiRequest(app.url, 'GET', '/api/me', { headers: { authorization: `bearer ${user.token}` } });
    assert.equal(response.status, 200, response.text);
  });

  const badTokens: [string, () => Record<string, string>][] = [
    ['no Authorization header', () => ({})],
    ['an empty Authorization header', () => ({ authorization: '' })],
    ['"Bearer" and nothing else', () => ({ authorization: 'Bearer ' })],
    ['a Basic scheme', () => ({ authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` })],
    ['the token without a scheme', () => ({ authorization: user.token })],
    ['two tokens', () => ({ authorization: `Bearer ${user.token} ${user.token}` })],
    ['a malformed token', () => ({ authorization: 'Bearer not-a-jwt' })],
    ['a token with a flipped signature', () => ({ authorization: `Bearer ${user.token.slice(0, -4)}AAAA` })],
    [
      'a token signed with another secret',
      () => ({ authorization: `Bearer ${jwt.sign({ sub: user.username }, 'another-secret-another-secret-another', { expiresIn: 600 })}` }),
    ],
    [
      'an expired token',
      () => ({
        authorization: `Bearer ${jwt.sign({ sub: user.username, exp: Math.floor(Date.now() / 1000) - 3600 }, app.jwtSecret)}`,
      }),
    ],
    [
      'an alg:none token',
      () => ({
        authorization: `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({
          sub: user.username,
          exp: Math.floor(Date.now() / 1000) + 600,
        })}.`,
      }),
    ],
    [
      'a token without exp',
      () => ({ authorization: `Bearer ${jwt.sign({ sub: user.username }, app.jwtSecret, { algorithm: 'HS256' })}` }),
    ],
    [
      'an HS512 token (algorithm switching)',
      () => ({ authorization: `Bearer ${jwt.sign({ sub: user.username }, app.jwtSecret, { algorithm: 'HS512', expiresIn: 600 })}` }),
    ],
    [
      'a token whose sub is not a username',
      () => ({ authorization: `Bearer ${jwt.sign({ sub: 'Not:A*User' }, app.jwtSecret, { expiresIn: 600 })}` }),
    ],
    [
      'a token without sub',
      () => ({ authorization: `Bearer ${jwt.sign({ name: user.username }, app.jwtSecret, { expiresIn: 600 })}` }),
    ],
    [
      'a token not valid before an hour from now',
      () => ({ authorization: `Bearer ${jwt.sign({ sub: user.username }, app.jwtSecret, { expiresIn: 7200, notBefore: 3600 })}` }),
    ],
  ];
  for (const [label, headers] of badTokens) {
    test(`${label}: 401 unauthenticated`, async () => {
      const response = await apiRequest(app.url, 'GET', '/api/me', { headers: headers() });
      assertErrorShape(response, 401, 'unauthenticated');
    });
  }

  test('the same bad tokens are refused on the other authenticated routes', async () => {
    const expired = jwt.sign({ sub: user.username, exp: Math.floor(Date.now() / 1000) - 3600 }, app.jwtSecret);
    for (const [method, path] of [
      ['GET', '/api/conversations'],
      ['POST', '/api/conversations'],
      ['GET', '/api/conversations/abc'],
      ['PATCH', '/api/conversations/abc'],
      ['GET', '/api/conversations/abc/messages'],
      ['POST', '/api/conversations/abc/messages'],
    ] as const) {
      const response = await apiRequest(app.url, method, path, {
        token: expired,
        ...(method === 'GET' ? {} : { body: { title: 't', users: [], text: 'x' } }),
      });
      assertErrorShape(response, 401, 'unauthenticated');
    }
  });

  test('a validly signed token for a user that has no account is not a 200', async () => {
    const token = jwt.sign({ sub: randomUsername('nobody') }, app.jwtSecret, { expiresIn: 600 });
    const response = await apiRequest(app.url, 'GET', '/api/me', { token });
    assert.ok(response.status === 401 || response.status === 404, `${response.status} ${response.text}`);
    assertErrorShape(response, response.status, response.status === 401 ? 'unauthenticated' : 'not_found');
  });
});
