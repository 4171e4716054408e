import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import {
  ChatApi,
  ChatConnection,
  type ChatConnectionOptions,
  type Message,
  type Summary,
} from '@chat/client';
import { createConversation, postMessage, registerUser, type RegisteredUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { Recorder } from '../support/sdk-recorder.js';
import { waitFor as waitForState } from '../support/wait-for.js';

const waitFor = (check: () => boolean, what: string, timeoutMs = 5000, describe?: () => string) => waitForState(check, what, timeoutMs, describe);

/**
 * The SDK's ordering, de-duplication, gap filling, heartbeat and reconnect decisions, driven by a
 * scripted gateway (a real WebSocket server whose frames the test chooses) so that duplicates,
 * gaps and silences happen exactly when the test wants them. Gaps are read over REST from a real
 * api.
 */

/** One client socket as the scripted gateway sees it. */
class ScriptedSocket {
  readonly frames: Record<string, unknown>[] = [];
  closedWith: { code: number; reason: string } | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
    ws.on('close', (code, reason) => {
      this.closedWith = { code, reason: reason.toString() };
    });
  }

  send(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  ready(epoch = 'epoch-1', user = 'bob'): void {
    this.send({ type: 'ready', user, epoch });
  }

  message(message: Omit<Summary, 'conversationTitle'> & { conversationTitle?: string }): void {
    this.send({ type: 'message', data: { conversationTitle: 'scripted', ...message } });
  }

  waitForFrames(count: number, timeoutMs = 5000): Promise<void> {
    return waitFor(() => this.frames.length >= count, `${count} client frames`, timeoutMs, () => JSON.stringify(this.frames));
  }

  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closedWith !== undefined, 'the client to close', timeoutMs).then(() => this.closedWith as { code: number; reason: string });
  }
}

/** A WebSocket server on a free port that records connections and lets the test speak for the gateway. */
class ScriptedGateway {
  readonly sockets: ScriptedSocket[] = [];
  readonly url: string;

  private constructor(private readonly server: WebSocketServer) {
    this.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
    server.on('connection', (ws) => this.sockets.push(new ScriptedSocket(ws)));
  }

  static async start(): Promise<ScriptedGateway> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return new ScriptedGateway(server);
  }

  async connection(index: number, timeoutMs = 5000): Promise<ScriptedSocket> {
    await waitFor(() => this.sockets.length > index, `connection #${index + 1} to ${this.url}`, timeoutMs);
    return this.sockets[index] as ScriptedSocket;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.ws.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}


function fakeMessage(conversationId: string, seq: number): Omit<Summary, 'conversationTitle'> {
  return { id: `${conversationId}-${seq}`, conversationId, seq, rev: seq, author: 'alice', text: `message ${seq}`, createdAt: new Date().toISOString() };
}

describe('SDK delivery order (scripted gateway)', () => {
  let stack: Stack;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  const gateways: ScriptedGateway[] = [];
  const connections: ChatConnection[] = [];

  before(async () => {
    stack = await startStack({ gateways: 0 });
    alice = await registerUser(stack.apiUrl);
    bob = await registerUser(stack.apiUrl);
  });

  after(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await stack?.stop();
  });

  async function gateway(): Promise<ScriptedGateway> {
    const started = await ScriptedGateway.start();
    gateways.push(started);
    return started;
  }

  function connect(options: Partial<ChatConnectionOptions> & Pick<ChatConnectionOptions, 'url'>): Recorder {
    const connection = new ChatConnection({
      token: bob.token,
      WebSocket,
      minReconnectDelayMs: 20,
      maxReconnectDelayMs: 100,
      heartbeatIntervalMs: 0,
      ...options,
    });
    connections.push(connection);
    const recorder = new Recorder(connection, 5000);
    connection.connect();
    return recorder;
  }

  it('sends resume first (cursors, the revs it saw, and epoch), on every connection', async () => {
    const server = await gateway();
    const recorder = connect({ url: server.url, cursors: { c1: 3, c2: 0 }, epoch: 'epoch-1' });
    const first = await server.connection(0);
    await first.waitForFrames(1);
    assert.deepEqual(first.frames[0], { type: 'resume', cursors: { c1: 3, c2: 0 }, epoch: 'epoch-1' });
    first.ready('epoch-1');
    await waitFor(() => recorder.readies.length === 1, 'ready');
    first.message(fakeMessage('c1', 4));
    await recorder.waitForSeqs('c1', 1);

    first.ws.close(1013, 'try again later');
    const second = await server.connection(1);
    await second.waitForFrames(1);
    assert.deepEqual(second.frames[0], { type: 'resume', cursors: { c1: 4, c2: 0 }, revs: { c1: 4 }, epoch: 'epoch-1' });
    assert.equal(recorder.disconnects[0]?.code, 1013);
    assert.deepEqual(recorder.states, ['connecting', 'connected', 'reconnecting']);
    second.ready('epoch-1');
    await waitFor(() => recorder.states.at(-1) === 'connected', 'connected again');
  });

  it('drops duplicates and delivers out-of-order frames in seq order', async () => {
    const server = await gateway();
    const recorder = connect({ url: server.url });
    const socket = await server.connection(0);
    socket.ready();
    for (const seq of [1, 1, 3, 2, 2, 5, 4, 3, 1, 6]) socket.message(fakeMessage('c', seq));
    await recorder.waitForSeqs('c', 6);
    // Another conversation starts at the first seq it shows.
    for (const seq of [41, 40, 42]) socket.message(fakeMessage('d', seq));
    await recorder.waitForSeqs('d', 2);
    socket.message(fakeMessage('c', 7));
    await recorder.waitForSeqs('c', 7);
    assert.deepEqual(recorder.seqs('c'), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(recorder.seqs('d'), [41, 42]);
    assert.equal(recorder.connection.cursor('c'), 7);

    // Cursors only move forward: an older seed changes nothing.
    recorder.connection.track('c', 0);
    assert.equal(recorder.connection.cursor('c'), 7);
    socket.message(fakeMessage('c', 3));
    socket.message(fakeMessage('c', 8));
    await recorder.waitForSeqs('c', 8);
    assert.deepEqual(recorder.seqs('c'), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(recorder.errors, []);
  });

  it('reads a gap that stays open over REST, and delivers in order', async () => {
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'gap title');
    const stored: Message[] = [];
    for (let i = 1; i <= 5; i += 1) stored.push(await postMessage(stack.apiUrl, alice.token, conversation.id, `stored ${i}`));

    const server = await gateway();
    const recorder = connect({ url: server.url, api: new ChatApi({ baseUrl: stack.apiUrl, token: bob.token }), gapTimeoutMs: 100 });
    const socket = await server.connection(0);
    socket.ready();
    const live = (seq: number) => ({ ...(stored[seq - 1] as Message), conversationTitle: 'gap title' });
    socket.message(live(1));
    socket.message(live(4));
    socket.message(live(5));
    await recorder.waitForSeqs(conversation.id, 5);
    assert.deepEqual(recorder.seqs(conversation.id), [1, 2, 3, 4, 5]);
    const filled = recorder.messages.find((message) => message.seq === 2);
    assert.equal(filled?.text, 'stored 2');
    assert.equal(filled?.conversationTitle, 'gap title');
    assert.deepEqual(recorder.recoveryFailures, []);
  });

  it('skips a hole history no longer has, and says so with recoveryFailed', async () => {
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'holes');
    for (let i = 1; i <= 5; i += 1) await postMessage(stack.apiUrl, alice.token, conversation.id, `stored ${i}`);

    const server = await gateway();
    const recorder = connect({ url: server.url, api: new ChatApi({ baseUrl: stack.apiUrl, token: bob.token }), gapTimeoutMs: 100 });
    const socket = await server.connection(0);
    socket.ready();
    socket.message(fakeMessage(conversation.id, 1));
    // Seqs 6 and 7 exist nowhere: REST has 2..5 only.
    socket.message(fakeMessage(conversation.id, 8));
    await recorder.waitForSeqs(conversation.id, 6);
    assert.deepEqual(recorder.seqs(conversation.id), [1, 2, 3, 4, 5, 8]);
    assert.deepEqual(recorder.recoveryFailures, [[conversation.id]]);
  });

  it('without an api, a gap that stays open is filled by reconnecting and resuming', async () => {
    const server = await gateway();
    const recorder = connect({ url: server.url, gapTimeoutMs: 100 });
    const first = await server.connection(0);
    first.ready();
    first.message(fakeMessage('g', 1));
    first.message(fakeMessage('g', 3));
    const second = await server.connection(1);
    await second.waitForFrames(1);
    assert.deepEqual(second.frames[0], { type: 'resume', cursors: { g: 1 }, revs: { g: 3 }, epoch: 'epoch-1' });
    second.ready();
    second.message(fakeMessage('g', 2));
    second.message(fakeMessage('g', 3));
    second.send({ type: 'resumed', recovered: true });
    await recorder.waitForSeqs('g', 3);
    assert.deepEqual(recorder.seqs('g'), [1, 2, 3]);
  });

  it('after an epoch change, forgets old cursors and reports the conversations', async () => {
    const server = await gateway();
    const recorder = connect({ url: server.url, cursors: { e: 50 }, epoch: 'old-epoch' });
    const socket = await server.connection(0);
    await socket.waitForFrames(1);
    assert.deepEqual(socket.frames[0], { type: 'resume', cursors: { e: 50 }, epoch: 'old-epoch' });
    socket.ready('new-epoch');
    socket.message(fakeMessage('e', 1));
    socket.send({ type: 'resumed', recovered: false, conversations: ['e'] });
    socket.message(fakeMessage('e', 2));
    await recorder.waitForSeqs('e', 2);
    await waitFor(() => recorder.recoveryFailures.length === 1, 'recoveryFailed');
    assert.deepEqual(recorder.seqs('e'), [1, 2]);
    assert.deepEqual(recorder.recoveryFailures, [['e']]);
    assert.equal(recorder.connection.epoch, 'new-epoch');
    assert.equal(recorder.connection.cursor('e'), 2);
  });

  it('detects a silent connection with its heartbeat and reconnects', async () => {
    const server = await gateway();
    const recorder = connect({ url: server.url, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 150 });
    const first = await server.connection(0);
    first.ready();
    // Never answers the pings.
    await first.waitForFrames(2);
    assert.deepEqual(first.frames[1], { type: 'ping' });
    const second = await server.connection(1);
    assert.equal(recorder.disconnects[0]?.code, 4408);
    // This one answers: the connection stays up across several heartbeats.
    second.ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'ping') second.send({ type: 'pong' });
    });
    second.ready();
    await second.waitForFrames(5);
    assert.equal(server.sockets.length, 2);
    assert.equal(recorder.connection.state, 'connected');
  });

  it('on 1001 reconnects at once to the next URL; close() stops for good', async () => {
    const one = await gateway();
    const two = await gateway();
    const recorder = connect({ url: [one.url, two.url], minReconnectDelayMs: 60_000, maxReconnectDelayMs: 60_000 });
    const first = await one.connection(0);
    first.ready();
    await waitFor(() => recorder.readies.length === 1, 'ready');
    first.ws.close(1001, 'shutting down');
    const second = await two.connection(0);
    second.ready();
    await waitFor(() => recorder.readies.length === 2, 'second ready');
    assert.equal(recorder.readies[1]?.url, two.url);
    assert.deepEqual(recorder.disconnects.map((info) => [info.code, info.delayMs]), [[1001, 0]]);

    await recorder.connection.close();
    assert.deepEqual(await second.waitClosed(), { code: 1000, reason: 'client closed' });
    assert.equal(recorder.connection.state, 'disconnected');
    assert.deepEqual(recorder.states, ['connecting', 'connected', 'reconnecting', 'connected', 'disconnected']);
  });
});
