import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { WebSocket } from 'ws';
import { registerUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { connectClient, refusedUpgradeStatus, TestSocket } from '../support/ws-client.js';

function unsignedToken(payload: object): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
}

describe('gateway WebSocket protocol', () => {
  let stack: Stack;
  let wsUrl: string;
  const sockets: TestSocket[] = [];
  const sign = (payload: object) => jwt.sign(payload, stack.jwtSecret, { algorithm: 'HS256' });
  const inSeconds = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

  async function connect(token: string): Promise<TestSocket> {
    const socket = await connectClient(wsUrl, token);
    sockets.push(socket);
    return socket;
  }

  before(async () => {
    stack = await startStack({ gateways: 1 });
    wsUrl = stack.wsUrls[0] as string;
  });

  after(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    await stack?.stop();
  });

  it('accepts the token as a query parameter or a bearer header, and says ready', async () => {
    const user = await registerUser(stack.apiUrl);
    const byQuery = await connect(user.token);
    const ready = byQuery.frames[0];
    assert.deepEqual(ready, { type: 'ready', user: user.username, epoch: ready?.epoch, protocol: '1.1' });
    assert.match(String(ready?.epoch), /^[A-Za-z0-9_-]{8,64}$/);

    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${user.token}` } });
    const byHeader = new TestSocket(ws);
    sockets.push(byHeader);
    assert.equal((await byHeader.nextFrame('ready')).user, user.username);
  });

  it('refuses bad tokens at the upgrade with 401 and opens no socket', async () => {
    const user = await registerUser(stack.apiUrl);
    const cases: Record<string, string | undefined> = {
      missing: undefined,
      malformed: 'not-a-jwt',
      'wrong secret': jwt.sign({ sub: user.username, exp: inSeconds(60) }, 'another-secret-another-secret-0123456789'),
      expired: sign({ sub: user.username, exp: inSeconds(-60) }),
      'alg none': unsignedToken({ sub: user.username, exp: inSeconds(60) }),
      'no exp': sign({ sub: user.username }),
      'bad subject': sign({ sub: 'NOT A USER', exp: inSeconds(60) }),
      tampered: `${user.token.slice(0, -4)}AAAA`,
    };
    for (const [name, token] of Object.entries(cases)) {
      const url = token === undefined ? wsUrl : `${wsUrl}?token=${encodeURIComponent(token)}`;
      assert.equal(await refusedUpgradeStatus(url), 401, name);
    }
    assert.equal(await refusedUpgradeStatus(wsUrl, { authorization: 'Bearer nope' }), 401, 'bad bearer header');
    assert.equal(await refusedUpgradeStatus(wsUrl.replace('/ws', '/elsewhere') + `?token=${user.token}`), 404, 'wrong path');
  });

  it('answers ping frames and protocol pings', async () => {
    const socket = await connect((await registerUser(stack.apiUrl)).token);
    socket.send({ type: 'ping' });
    assert.deepEqual(await socket.nextFrame('pong'), { type: 'pong' });
    const pong = new Promise<Buffer>((resolve) => socket.ws.once('pong', resolve));
    socket.ws.ping(Buffer.from('hi'));
    assert.equal((await pong).toString(), 'hi');
  });

  it('answers frames it cannot take with an error frame and stays open', async () => {
    const socket = await connect((await registerUser(stack.apiUrl)).token);
    const bad: [string | Buffer, string][] = [
      ['{not json', 'invalid_json'],
      [JSON.stringify({ type: 'subscribe', channel: 'everything' }), 'invalid_request'],
      [JSON.stringify({ type: 'ping', extra: true }), 'invalid_request'],
      [JSON.stringify({ type: 'resume', cursors: { 'a:b': 1 } }), 'invalid_request'],
      [JSON.stringify({ type: 'resume', cursors: { abc: -1 } }), 'invalid_request'],
      [Buffer.from([1, 2, 3]), 'invalid_request'],
    ];
    for (const [frame, code] of bad) {
      const from = socket.frames.length;
      if (typeof frame === 'string') socket.send(frame);
      else socket.ws.send(frame, { binary: true });
      const error = await socket.nextFrame('error', from);
      assert.equal(error.code, code, `frame ${String(frame)}`);
      assert.equal(typeof error.message, 'string');
    }
    // A `__proto__` cursor (an own key after JSON.parse) is harmless: nothing is replayed.
    const from = socket.frames.length;
    socket.send('{"type":"resume","cursors":{"__proto__":0}}');
    assert.deepEqual(await socket.nextFrame('resumed', from), { type: 'resumed', recovered: true });
    assert.deepEqual(socket.messages(), []);
    socket.send({ type: 'ping' });
    await socket.nextFrame('pong', from);
  });

  it('closes a socket whose token expires with 4401', async () => {
    const user = await registerUser(stack.apiUrl);
    const socket = await connect(sign({ sub: user.username, exp: inSeconds(2) }));
    const closed = await Promise.race([
      socket.closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not closed at expiry')), 6000)),
    ]);
    assert.equal(closed.code, 4401);
  });

  it('keeps a socket open past its first expiry after an auth frame with a fresh token', async () => {
    const user = await registerUser(stack.apiUrl);
    const socket = await connect(sign({ sub: user.username, exp: inSeconds(2) }));
    socket.send({ type: 'auth', token: sign({ sub: user.username, exp: inSeconds(120) }) });
    // Proof the refresh was taken: a ping sent after it is answered after it.
    socket.send({ type: 'ping' });
    await socket.nextFrame('pong');
    // Past the first expiry (2 s + margin), the socket still answers.
    await socket.waitUntil(() => false, 'nothing', 3500).catch(() => undefined);
    const from = socket.frames.length;
    socket.send({ type: 'ping' });
    await socket.nextFrame('pong', from);
    assert.equal(socket.ws.readyState, WebSocket.OPEN);
  });

  it('refuses an auth frame for another user or with a bad token, keeping the socket', async () => {
    const [user, other] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const socket = await connect(user.token);
    socket.send({ type: 'auth', token: other.token });
    assert.equal((await socket.nextFrame('error')).code, 'forbidden');
    const from = socket.frames.length;
    socket.send({ type: 'auth', token: 'garbage' });
    assert.equal((await socket.nextFrame('error', from)).code, 'unauthenticated');
    assert.equal(socket.ws.readyState, WebSocket.OPEN);
  });

  it('closes with 1009 on a frame over the size limit', async () => {
    const socket = await connect((await registerUser(stack.apiUrl)).token);
    socket.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(64 * 1024) }));
    assert.equal((await socket.closed).code, 1009);
  });

  it('closes every socket with 1001 on SIGTERM and exits 0', async () => {
    const socket = await connect((await registerUser(stack.apiUrl)).token);
    const gateway = stack.gateways[0];
    assert.ok(gateway);
    const exit = gateway.stop('SIGTERM', 10_000);
    assert.equal((await socket.closed).code, 1001);
    assert.equal(await exit, 0);
  });
});
