import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { WebSocket } from 'ws';
import {
  ChatApi,
  ChatConnection,
  ChatConnectionError,
  type ChatConnectionOptions,
} from '@chat/client';
import { createConversation, postMessage, registerUser, type RegisteredUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { Recorder } from '../support/sdk-recorder.js';
import { waitFor } from '../support/wait-for.js';
import { range } from '../support/ws-client.js';

/** The SDK's live connection against a real stack (api, worker, two gateway replicas, Redis). */


/** A promise the test opens when it wants: holds the SDK's token function (and so its reconnect). */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe('SDK live connection (real stack)', () => {
  let stack: Stack;
  let trimmedStack: Stack | undefined;
  const connections: ChatConnection[] = [];

  before(async () => {
    stack = await startStack({ gateways: 2 });
  });

  after(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await Promise.all([stack?.stop(), trimmedStack?.stop()]);
  });

  const sign = (username: string, seconds: number, secret = stack.jwtSecret) =>
    jwt.sign({ sub: username, exp: Math.floor(Date.now() / 1000) + seconds }, secret, { algorithm: 'HS256' });

  function open(options: Partial<ChatConnectionOptions> & Pick<ChatConnectionOptions, 'token'>, target = stack): Recorder {
    const connection = new ChatConnection({
      url: target.wsUrls,
      WebSocket,
      minReconnectDelayMs: 50,
      maxReconnectDelayMs: 500,
      ...options,
    });
    connections.push(connection);
    const recorder = new Recorder(connection);
    connection.connect();
    return recorder;
  }

  async function pair(target = stack): Promise<{ alice: RegisteredUser; bob: RegisteredUser; conversationId: string }> {
    const alice = await registerUser(target.apiUrl);
    const bob = await registerUser(target.apiUrl);
    const conversation = await createConversation(target.apiUrl, alice.token, [bob.username], 'sdk live');
    return { alice, bob, conversationId: conversation.id };
  }

  it('delivers live messages in order, once each', async () => {
    const { alice, bob, conversationId } = await pair();
    const recorder = open({ token: bob.token, api: new ChatApi({ baseUrl: stack.apiUrl, token: bob.token }) });
    await recorder.waitForReadies(1);
    assert.equal(recorder.readies[0]?.user, bob.username);
    assert.equal(recorder.readies[0]?.url, stack.wsUrls[0]);

    // Posted concurrently: the worker may publish them out of order; the app sees seq order.
    await Promise.all(range(1, 20).map((i) => postMessage(stack.apiUrl, alice.token, conversationId, `hello ${i}`)));
    await recorder.waitForSeqs(conversationId, 20);
    assert.deepEqual(recorder.seqs(conversationId), range(1, 20));
    const first = recorder.messages[0];
    assert.equal(first?.conversationTitle, 'sdk live');
    assert.equal(first?.author, alice.username);
    assert.deepEqual(recorder.states, ['connecting', 'connected']);
    assert.deepEqual(recorder.errors, []);
  });

  it('leaves nothing running when a ready listener closes the connection (a Node process can exit)', async () => {
    const { bob } = await pair();
    // Its own process: a heartbeat interval left behind would keep it alive for the default 25 s.
    const script = `
      import { WebSocket } from 'ws';
      import { ChatConnection } from '@chat/client';
      const connection = new ChatConnection({ url: process.env.WS_URL, token: process.env.TOKEN, WebSocket });
      connection.on('ready', () => {
        void connection.close().then(() => console.log('closed'));
      });
      connection.connect();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, WS_URL: stack.wsUrls[0], TOKEN: bob.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = await Promise.race([
      new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 10_000)),
    ]);
    if (exited === 'still running') child.kill('SIGKILL');
    assert.equal(exited, 0, `the process did not exit by itself within 10 s: ${output}`);
    assert.match(output, /closed/);
  });

  it('does not deliver again below its cursor, even when told to resume from an older one', async () => {
    const { alice, bob, conversationId } = await pair();
    const recorder = open({ token: bob.token });
    await recorder.waitForReadies(1);
    for (const i of range(1, 5)) await postMessage(stack.apiUrl, alice.token, conversationId, `m${i}`);
    await recorder.waitForSeqs(conversationId, 5);

    recorder.connection.track(conversationId, 0);
    assert.equal(recorder.connection.cursor(conversationId), 5);
    recorder.connection.reconnect();
    await recorder.waitForReadies(2);
    await recorder.waitForResumes(2);
    await postMessage(stack.apiUrl, alice.token, conversationId, 'm6');
    await recorder.waitForSeqs(conversationId, 6);
    assert.deepEqual(recorder.seqs(conversationId), range(1, 6));

    // A connection restored from saved cursors resumes from them: only what came after arrives.
    const restored = open({ token: bob.token, cursors: recorder.connection.cursors(), epoch: recorder.connection.epoch });
    const latecomer = open({ token: bob.token, cursors: { [conversationId]: 3 } });
    await restored.waitForResumes(1);
    await latecomer.waitForSeqs(conversationId, 3);
    await postMessage(stack.apiUrl, alice.token, conversationId, 'm7');
    await restored.waitForSeqs(conversationId, 1);
    await latecomer.waitForSeqs(conversationId, 4);
    assert.deepEqual(restored.seqs(conversationId), [7]);
    assert.deepEqual(latecomer.seqs(conversationId), [4, 5, 6, 7]);
  });

  it('reconnects to the other replica after a kill and delivers what it missed once, in order, before newer ones', async () => {
    const { alice, bob, conversationId } = await pair();
    let hold: Promise<void> = Promise.resolve();
    let tokenCalls = 0;
    const recorder = open({
      url: [stack.wsUrls[0] as string, stack.wsUrls[1] as string],
      token: async () => {
        tokenCalls += 1;
        await hold;
        return bob.token;
      },
    });
    await recorder.waitForReadies(1);
    assert.equal(recorder.readies[0]?.url, stack.wsUrls[0]);
    for (const i of range(1, 3)) await postMessage(stack.apiUrl, alice.token, conversationId, `before ${i}`);
    await recorder.waitForSeqs(conversationId, 3);

    // Keep the SDK away (its next attempt waits for a token) while messages are posted.
    const away = gate();
    hold = away.wait;
    const callsBefore = tokenCalls;
    await stack.gateways[0]?.kill();
    await waitFor(() => recorder.states.includes('reconnecting'), 'state reconnecting');
    await waitFor(() => tokenCalls > callsBefore, 'a reconnect attempt');
    for (const i of range(4, 8)) await postMessage(stack.apiUrl, alice.token, conversationId, `while away ${i}`);
    away.open();

    await recorder.waitForReadies(2);
    assert.equal(recorder.readies[1]?.url, stack.wsUrls[1]);
    for (const i of range(9, 10)) await postMessage(stack.apiUrl, alice.token, conversationId, `after ${i}`);
    await recorder.waitForSeqs(conversationId, 10);
    assert.deepEqual(recorder.seqs(conversationId), range(1, 10));
    assert.deepEqual(recorder.states, ['connecting', 'connected', 'reconnecting', 'connected']);
    assert.equal(recorder.disconnects[0]?.url, stack.wsUrls[0]);
    assert.deepEqual(recorder.recoveryFailures, []);

    await recorder.connection.close();
    await stack.restartGateway(0);
  });

  it('refreshes a short-lived token over the open socket', async () => {
    const { alice, bob, conversationId } = await pair();
    const firstToken = sign(bob.username, 3);
    const firstExpiryMs = (jwt.decode(firstToken) as { exp: number }).exp * 1000;
    let calls = 0;
    const recorder = open({
      token: () => {
        calls += 1;
        return calls === 1 ? firstToken : sign(bob.username, 3);
      },
      heartbeatIntervalMs: 0,
    });
    await recorder.waitForReadies(1);
    await waitFor(() => Date.now() > firstExpiryMs + 1500 && calls >= 2, 'the first token to be long expired', 10_000);
    await postMessage(stack.apiUrl, alice.token, conversationId, 'still here');
    await recorder.waitForSeqs(conversationId, 1);
    assert.deepEqual(recorder.disconnects, [], 'the socket stayed open');
    assert.equal(recorder.readies.length, 1);
    assert.equal(recorder.connection.state, 'connected');
    assert.deepEqual(recorder.errors, []);
  });

  it('on 4401 reconnects with a fresh token from the token function', async () => {
    const { alice, bob, conversationId } = await pair();
    const shortToken = sign(bob.username, 3);
    const shortExpiryMs = (jwt.decode(shortToken) as { exp: number }).exp * 1000;
    // Until it expires, the function has nothing fresher: the refresh cannot help, the gateway closes with 4401.
    const recorder = open({
      token: () => (Date.now() < shortExpiryMs ? shortToken : sign(bob.username, 600)),
      heartbeatIntervalMs: 0,
    });
    // As an app does for the conversations it shows: a message accepted just before the 4401 is
    // then resumed on the next socket, not lost with the first.
    recorder.connection.track(conversationId, 0);
    await recorder.waitForReadies(1);
    await postMessage(stack.apiUrl, alice.token, conversationId, 'one');
    await recorder.waitForSeqs(conversationId, 1);
    await recorder.waitForReadies(2);
    assert.equal(recorder.disconnects[0]?.code, 4401);
    assert.equal(recorder.disconnects[0]?.willReconnect, true);
    await postMessage(stack.apiUrl, alice.token, conversationId, 'two');
    await recorder.waitForSeqs(conversationId, 2);
    assert.deepEqual(recorder.seqs(conversationId), [1, 2]);
    assert.equal(recorder.connection.state, 'connected');
  });

  it('stops with an error on 4401 when the token is a fixed string', async () => {
    const { bob } = await pair();
    const recorder = open({ token: sign(bob.username, 2), heartbeatIntervalMs: 0 });
    await recorder.waitForReadies(1);
    await waitFor(() => recorder.states.at(-1) === 'disconnected', 'state disconnected', 10_000);
    const error = recorder.errors[0];
    assert.ok(error instanceof ChatConnectionError, `expected a ChatConnectionError, got ${String(error)}`);
    assert.equal(error.code, 'token_expired');
    assert.equal(error.closeCode, 4401);
    assert.deepEqual(recorder.states, ['connecting', 'connected', 'disconnected']);
    assert.equal(recorder.disconnects[0]?.willReconnect, false);
  });

  it('stops with an error when the gateway refuses a fixed token at the upgrade', async () => {
    const { bob } = await pair();
    const recorder = open({ token: sign(bob.username, 60, 'not-the-secret-not-the-secret-0123456789') });
    await waitFor(() => recorder.states.at(-1) === 'disconnected', 'state disconnected');
    const error = recorder.errors[0];
    assert.ok(error instanceof ChatConnectionError, `expected a ChatConnectionError, got ${String(error)}`);
    assert.equal(error.code, 'unauthenticated');
    assert.deepEqual(recorder.readies, []);
    assert.equal(recorder.disconnects.at(-1)?.willReconnect, false);
  });

  it('says recoveryFailed when history was trimmed past its cursor', async () => {
    trimmedStack = await startStack({ gateways: 1, env: { HISTORY_LIMIT: '3' } });
    const { alice, bob, conversationId } = await pair(trimmedStack);
    const recorder = open({ token: bob.token, api: new ChatApi({ baseUrl: trimmedStack.apiUrl, token: bob.token }) }, trimmedStack);
    await recorder.waitForReadies(1);
    await postMessage(trimmedStack.apiUrl, alice.token, conversationId, 'first');
    await recorder.waitForSeqs(conversationId, 1);
    await recorder.connection.close();

    for (const i of range(2, 11)) await postMessage(trimmedStack.apiUrl, alice.token, conversationId, `while closed ${i}`);
    recorder.connection.connect();
    await waitFor(() => recorder.recoveryFailures.length > 0, 'recoveryFailed');
    assert.deepEqual(recorder.recoveryFailures, [[conversationId]]);
    await recorder.waitForResumes(2);
    assert.deepEqual(recorder.resumes[1], { recovered: false, conversations: [conversationId] });
    // What history still has is delivered after the hole, in order.
    await recorder.waitForSeqs(conversationId, 4);
    assert.deepEqual(recorder.seqs(conversationId), [1, 9, 10, 11]);
    assert.equal(recorder.connection.cursor(conversationId), 11);
  });
});
