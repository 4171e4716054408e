import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { apiRequest, createConversation, postMessage, registerUser, type RegisteredUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { connectClient, type TestSocket } from '../support/ws-client.js';

/**
 * Hostile client frames: anything a socket can send. The gateway answers with error frames (or
 * pong/resumed), never crashes, never closes a well-behaved socket over bad frames, and never
 * hands over another user's messages, whatever ids the frames guess.
 */
describe('hostile WebSocket frames (property)', () => {
  let stack: Stack;
  let alice: RegisteredUser;
  let mallory: RegisteredUser;
  let secretConversation: string;
  let socket: TestSocket;

  before(async () => {
    stack = await startStack({ gateways: 1, env: { CLIENT_FRAMES_PER_SECOND: '10000' } });
    [alice, mallory] = [await registerUser(stack.apiUrl), await registerUser(stack.apiUrl)];
    secretConversation = (await createConversation(stack.apiUrl, alice.token, [], 'alice only')).id;
    for (let i = 0; i < 3; i += 1) await postMessage(stack.apiUrl, alice.token, secretConversation, `secret ${i}`);
    // Changes too, so that revs could find something to replay.
    const edited = await apiRequest(stack.apiUrl, 'PATCH', `/api/conversations/${secretConversation}/messages/1`, { token: alice.token, body: { text: 'secret, edited' } });
    assert.equal(edited.status, 200);
    socket = await connectClient(stack.wsUrls[0] as string, mallory.token);
  });
  after(async () => {
    await socket?.close();
    await stack?.stop();
  });

  it('answers every hostile frame in kind and leaks nothing', async () => {
    const id = fc.oneof(fc.constant(secretConversation), fc.string({ maxLength: 70 }), fc.constantFrom('__proto__', 'constructor', 'a:b', '*', '{x}'));
    const frame = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
      fc.string({ maxLength: 200 }),
      fc.record({ type: fc.constantFrom('resume', 'auth', 'ping', 'subscribe', 'message', '', 'read', 'conversation', 'ready'), cursors: fc.dictionary(id, fc.oneof(fc.integer(), fc.double(), fc.string())) }, { requiredKeys: ['type'] }).map((value) =>
        JSON.stringify(value),
      ),
      fc.record({ type: fc.constant('resume'), cursors: fc.dictionary(id, fc.nat()), epoch: fc.option(fc.string({ maxLength: 70 }), { nil: undefined }) }).map((value) =>
        JSON.stringify(value),
      ),
      // 1.1: revs beside the cursors, hostile or plausible, for guessed or secret conversations.
      fc
        .record(
          {
            type: fc.constant('resume'),
            cursors: fc.dictionary(id, fc.nat()),
            revs: fc.oneof(fc.dictionary(id, fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string(), fc.constant(null))), fc.jsonValue({ maxDepth: 2 })),
          },
          { requiredKeys: ['type', 'cursors'] },
        )
        .map((value) => JSON.stringify(value)),
      fc.constant(JSON.stringify({ type: 'resume', cursors: { [secretConversation]: 0 }, revs: { [secretConversation]: 0 } })),
      fc.record({ type: fc.constant('auth'), token: fc.oneof(fc.string(), fc.constant(alice.token), fc.constant(mallory.token)) }).map((value) => JSON.stringify(value)),
      // Server frames of 1.1 sent back at the gateway: unknown client frames.
      fc.record({ type: fc.constant('read'), conversationId: id, seq: fc.oneof(fc.nat(), fc.string()) }).map((value) => JSON.stringify(value)),
      fc.record({ type: fc.constant('conversation'), event: fc.constantFrom('added', 'updated', 'removed'), data: fc.record({ id }) }).map((value) => JSON.stringify(value)),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), async (frames) => {
        const from = socket.frames.length;
        for (const text of frames) socket.send(text);
        // A ping after them: its pong means every frame before it was handled.
        socket.send({ type: 'ping' });
        await socket.waitUntil(() => socket.frames.slice(from).some((f) => f.type === 'pong'), 'the pong after the batch', 5000);
        for (const received of socket.frames.slice(from)) {
          assert.ok(['error', 'pong', 'resumed'].includes(received.type), `unexpected frame ${JSON.stringify(received)}`);
        }
        assert.equal(socket.ws.readyState, socket.ws.OPEN, 'bad frames do not close the socket');
      }),
      { numRuns: 150 },
    );
    // What alice does in her conversations (rename, read, a new one without mallory) tells mallory nothing.
    const headers = { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' };
    const request = (method: string, path: string, body: unknown) =>
      fetch(`${stack.apiUrl}${path}`, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    assert.equal((await request('PATCH', `/api/conversations/${secretConversation}`, { title: 'alice only, renamed' })).status, 200);
    assert.equal((await request('PUT', `/api/conversations/${secretConversation}/read`, { seq: 2 })).status, 200);
    assert.equal((await request('POST', '/api/conversations', { title: 'another secret', users: [] })).status, 201);
    const from = socket.frames.length;
    socket.send({ type: 'ping' });
    await socket.nextFrame('pong', from);
    assert.deepEqual(socket.frames.filter((received) => ['conversation', 'read', 'message'].includes(received.type)), [], 'no frame about alice');
    assert.deepEqual(socket.messages(), [], 'mallory never received a message');
    assert.ok(socket.frames.every((received) => received.type !== 'message_updated'), 'nor an update');
    assert.ok(socket.frames.every((received) => !JSON.stringify(received).includes('secret')), 'nothing of alice leaked');
    assert.equal((await fetch(`${stack.gatewayUrls[0]}/healthz`)).status, 200);
  });
});
