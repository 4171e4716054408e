import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { apiRequest, assertErrorShape } from '../support/api-client.js';
import { startApiInProcess, type ApiInProcess } from '../support/api-app.js';

/** Tokens from an external identity provider: RS256/ES256, keys from a JWKS file, URL or PEM. */

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

function jwks(entries: [string, KeyObject][]): string {
  return JSON.stringify({ keys: entries.map(([kid, key]) => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig' })) });
}

async function callerOf(app: ApiInProcess, token: string) {
  return apiRequest(app.url, 'GET', '/api/conversations', { token });
}

describe('RS256 tokens verified with a JWKS file', () => {
  let app: ApiInProcess;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
    const file = join(dir, 'jwks.json');
    writeFileSync(file, jwks([['key-1', rsa.publicKey]]));
    app = await startApiInProcess({ env: { JWT_ALGORITHM: 'RS256', JWT_JWKS_FILE: file, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'chat' } });
  });
  after(async () => {
    await app?.stop();
  });

  const sign = (payload: object, options: jwt.SignOptions = {}, key: KeyObject = rsa.privateKey) =>
    jwt.sign(payload, key, { algorithm: 'RS256', keyid: 'key-1', issuer: 'https://idp.example', audience: 'chat', ...options });

  it('accepts a token signed by the provider', async () => {
    const response = await callerOf(app, sign({ sub: 'alice', exp: inAMinute() }));
    assert.equal(response.status, 200, response.text);
  });

  it('refuses wrong issuer, wrong audience, unknown kid, another key, and algorithm switching', async () => {
    const publicPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const bad: Record<string, string> = {
      'wrong issuer': sign({ sub: 'alice', exp: inAMinute() }, { issuer: 'https://evil.example' }),
      'wrong audience': sign({ sub: 'alice', exp: inAMinute() }, { audience: 'other' }),
      'unknown kid': sign({ sub: 'alice', exp: inAMinute() }, { keyid: 'key-9' }),
      'signed by another key': sign({ sub: 'alice', exp: inAMinute() }, {}, otherRsa.privateKey),
      'HS256 with the public key as secret': jwt.sign({ sub: 'alice', exp: inAMinute(), iss: 'https://idp.example', aud: 'chat' }, publicPem, {
        algorithm: 'HS256',
        keyid: 'key-1',
      }),
      'no exp': sign({ sub: 'alice' }),
    };
    for (const [name, token] of Object.entries(bad)) {
      const response = await callerOf(app, token);
      assertErrorShape(response, 401, 'unauthenticated');
      assert.ok(response.status === 401, name);
    }
  });

  it('has no register or login: users sign in at the provider', async () => {
    const response = await apiRequest(app.url, 'POST', '/api/auth/register', { body: { username: 'alice', password: 'long enough password' } });
    assertErrorShape(response, 404, 'not_found');
  });
});

describe('ES256 tokens verified with a JWKS URL', () => {
  let app: ApiInProcess;
  let jwksServer: Server;
  let served = jwks([['ec-1', ec.publicKey]]);
  let fetches = 0;

  before(async () => {
    jwksServer = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(served);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    app = await startApiInProcess({ env: { JWT_ALGORITHM: 'ES256', JWT_JWKS_URL: url } });
  });
  after(async () => {
    await app?.stop();
    jwksServer?.close();
  });

  it('accepts the provider token and picks up a rotated key', async () => {
    const token = jwt.sign({ sub: 'bob', exp: inAMinute() }, ec.privateKey, { algorithm: 'ES256', keyid: 'ec-1' });
    assert.equal((await callerOf(app, token)).status, 200);

    const rotated = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    served = jwks([['ec-1', ec.publicKey], ['ec-2', rotated.publicKey]]);
    const fresh = jwt.sign({ sub: 'bob', exp: inAMinute() }, rotated.privateKey, { algorithm: 'ES256', keyid: 'ec-2' });
    // The first sight of the new kid starts a refetch; the key is there shortly after.
    const before = fetches;
    assertErrorShape(await callerOf(app, fresh), 401, 'unauthenticated');
    let status = 401;
    for (let attempt = 0; attempt < 60 && status !== 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await callerOf(app, fresh)).status;
    }
    assert.equal(status, 200);
    assert.ok(fetches > before);
  });

  it('refuses an RS256 token when ES256 is configured', async () => {
    const token = jwt.sign({ sub: 'bob', exp: inAMinute() }, rsa.privateKey, { algorithm: 'RS256', keyid: 'ec-1' });
    assertErrorShape(await callerOf(app, token), 401, 'unauthenticated');
  });
});
