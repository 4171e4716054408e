import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiRequest, createConversation, postMessage, registerUser, type RegisteredUser } from '../support/api-client.js';
import { sharedStack } from '../support/shared-fixtures.js';
import { REDIS_MODES } from '../support/stack.js';
import { range, seqsOf, type TestSocket } from '../support/ws-client.js';

/**
 * Delivery through real processes: api + worker + two gateway replicas, with the members of each
 * conversation spread over both replicas; over one redis-server, then over a local Redis Cluster
 * (3 masters + 3 replicas: hash-tagged keys, sharded pub/sub, a drain queue per partition).
 */
for (const mode of REDIS_MODES) describe(`delivery across gateway replicas (${mode} Redis)`, () => {
  const { stack, sockets, connect } = sharedStack({ gateways: 2, mode });

  /** Posts in a conversation `observer` is in and waits for it: later than anything posted before. */
  async function barrier(observer: TestSocket, owner: RegisteredUser, conversationId: string): Promise<void> {
    const before = observer.messages(conversationId).length;
    await postMessage(stack.apiUrl, owner.token, conversationId, 'barrier');
    await observer.waitForMessages(before + 1, conversationId);
  }

  it('delivers a message to every member on both replicas, with the summary fields', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const aliceSocket = await connect(0, alice);
    const bobSocket = await connect(1, bob);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'Project X');
    const posted = await postMessage(stack.apiUrl, alice.token, conversation.id, 'hello bob');

    await Promise.all([aliceSocket.waitForMessages(1), bobSocket.waitForMessages(1)]);
    for (const socket of [aliceSocket, bobSocket]) {
      assert.deepEqual(socket.messages(), [{ ...posted, conversationTitle: 'Project X' }]);
    }
  });

  it('sends nothing to a connected non-member', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const bobSocket = await connect(1, bob);
    const carolSocket = await connect(0, carol);
    const secret = await createConversation(stack.apiUrl, alice.token, [bob.username], 'alice and bob');
    const carolsOwn = await createConversation(stack.apiUrl, alice.token, [carol.username], 'alice and carol');
    for (let i = 0; i < 5; i += 1) await postMessage(stack.apiUrl, alice.token, secret.id, `private ${i}`);
    await bobSocket.waitForMessages(5, secret.id);
    await barrier(carolSocket, alice, carolsOwn.id);

    assert.deepEqual(carolSocket.messages(secret.id), []);
    assert.ok(carolSocket.frames.every((frame) => JSON.stringify(frame).indexOf('private') === -1));
  });

  it('delivers to two sockets of one user held by different replicas', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const bobOnFirst = await connect(0, bob);
    const bobOnSecond = await connect(1, bob);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username]);
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'to both of your devices');

    await Promise.all([bobOnFirst.waitForMessages(1), bobOnSecond.waitForMessages(1)]);
    assert.equal(bobOnFirst.messages()[0]?.text, 'to both of your devices');
    assert.equal(bobOnSecond.messages()[0]?.text, 'to both of your devices');
  });

  it('delivers 50 rapid concurrent posts in seq order, once each, to every socket', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const watchers = [await connect(0, alice), await connect(1, bob), await connect(0, carol), await connect(1, carol)];
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username, carol.username]);
    const authors = [alice, bob, carol];
    const posted = await Promise.all(
      range(1, 50).map((i) => postMessage(stack.apiUrl, (authors[i % 3] as RegisteredUser).token, conversation.id, `burst ${i}`)),
    );
    assert.deepEqual(posted.map((message) => message.seq).sort((a, b) => a - b), range(1, 50));

    await Promise.all(watchers.map((socket) => socket.waitForMessages(50, conversation.id)));
    for (const socket of watchers) {
      assert.deepEqual(seqsOf(socket.messages(conversation.id)), range(1, 50));
    }
  });

  it('delivers later messages to a member added later, and nothing from before', async () => {
    const [alice, bob, dave] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const daveSocket = await connect(1, dave);
    const aliceSocket = await connect(0, alice);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username]);
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'before dave');
    await aliceSocket.waitForMessages(1, conversation.id);

    const patched = await apiRequest(stack.apiUrl, 'PATCH', `/api/conversations/${conversation.id}`, {
      token: alice.token,
      body: { users: [bob.username, dave.username] },
    });
    assert.equal(patched.status, 200, patched.text);
    await postMessage(stack.apiUrl, bob.token, conversation.id, 'welcome dave');

    await daveSocket.waitForMessages(1, conversation.id);
    assert.deepEqual(
      daveSocket.messages(conversation.id).map((message) => [message.seq, message.text]),
      [[2, 'welcome dave']],
    );
  });

  it('stops delivering to a member once the removal is acknowledged', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const bobSocket = await connect(1, bob);
    const aliceSocket = await connect(0, alice);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username]);
    const bobsOther = await createConversation(stack.apiUrl, alice.token, [bob.username], 'still together');
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'while bob is here');
    await bobSocket.waitForMessages(1, conversation.id);

    const patched = await apiRequest(stack.apiUrl, 'PATCH', `/api/conversations/${conversation.id}`, {
      token: alice.token,
      body: { users: [] },
    });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual((patched.body as { users: string[] }).users, [alice.username]);
    for (let i = 0; i < 3; i += 1) await postMessage(stack.apiUrl, alice.token, conversation.id, `after bob left ${i}`);
    await aliceSocket.waitForMessages(4, conversation.id);
    await barrier(bobSocket, alice, bobsOther.id);

    assert.deepEqual(seqsOf(bobSocket.messages(conversation.id)), [1]);
  });

  it('sends nothing to a member after their leave is acknowledged, on either replica, while the others get every message', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const bobSockets = [await connect(0, bob), await connect(1, bob)];
    const others = [await connect(0, alice), await connect(1, carol)];
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username, carol.username], 'bob leaves');
    const bobsOther = await createConversation(stack.apiUrl, carol.token, [bob.username], 'bob stays here');
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'while bob is here');
    await Promise.all([...bobSockets, ...others].map((socket) => socket.waitForMessages(1, conversation.id)));

    const left = await apiRequest(stack.apiUrl, 'POST', `/api/conversations/${conversation.id}/leave`, { token: bob.token });
    assert.equal(left.status, 204, left.text);
    // A burst right after the 204, so a frame that slipped past the leave would be among them.
    await Promise.all(range(1, 6).map((i) => postMessage(stack.apiUrl, (i % 2 ? alice : carol).token, conversation.id, `after bob left ${i}`)));
    await Promise.all(others.map((socket) => socket.waitForMessages(7, conversation.id)));
    for (const socket of others) assert.deepEqual(seqsOf(socket.messages(conversation.id)), range(1, 7));
    for (const socket of bobSockets) await barrier(socket, carol, bobsOther.id);

    for (const socket of bobSockets) {
      assert.deepEqual(seqsOf(socket.messages(conversation.id)), [1]);
      assert.ok(socket.frames.every((frame) => !JSON.stringify(frame).includes('after bob left')));
    }
  });

  it('replays what a client missed, in order and once, when it resumes on the other replica', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username]);
    const quiet = await createConversation(stack.apiUrl, alice.token, [bob.username], 'nothing missed here');
    const first = await connect(0, bob);
    for (let i = 1; i <= 3; i += 1) await postMessage(stack.apiUrl, alice.token, conversation.id, `seen ${i}`);
    await first.waitForMessages(3, conversation.id);
    await first.close();

    for (let i = 4; i <= 10; i += 1) await postMessage(stack.apiUrl, alice.token, conversation.id, `missed ${i}`);
    // Messages keep coming while bob reconnects and resumes: none may overtake the replay.
    const posting = Promise.all(range(11, 20).map((i) => postMessage(stack.apiUrl, alice.token, conversation.id, `live ${i}`)));
    const second = await connect(1, bob);
    second.send({ type: 'resume', cursors: { [conversation.id]: 3, [quiet.id]: 0 } });
    await posting;

    const resumed = await second.nextFrame('resumed');
    assert.deepEqual(resumed, { type: 'resumed', recovered: true });
    await second.waitForMessages(17, conversation.id);
    assert.deepEqual(seqsOf(second.messages(conversation.id)), range(4, 20));
    const resumedAt = second.frames.indexOf(resumed);
    const replayedBefore = second.frames.slice(0, resumedAt).filter((frame) => frame.type === 'message').length;
    assert.ok(replayedBefore >= 7, `the 7 missed messages come before "resumed" (got ${replayedBefore})`);
  });

  it('replays when the resume frame is sent right after opening, before ready', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username]);
    for (let i = 1; i <= 5; i += 1) await postMessage(stack.apiUrl, alice.token, conversation.id, `m${i}`);
    const { WebSocket } = await import('ws');
    const { TestSocket } = await import('../support/ws-client.js');
    const ws = new WebSocket(`${stack.wsUrls[0]}?token=${bob.token}`);
    const socket = new TestSocket(ws);
    sockets.push(socket);
    await new Promise((resolve) => ws.once('open', resolve));
    socket.send({ type: 'resume', cursors: { [conversation.id]: 2 } });
    await socket.nextFrame('resumed');
    assert.deepEqual(
      socket.frames.map((frame) => frame.type),
      ['ready', 'message', 'message', 'message', 'resumed'],
    );
    assert.deepEqual(seqsOf(socket.messages(conversation.id)), [3, 4, 5]);
  });

  it('ignores resume cursors for conversations the user is not in', async () => {
    const [alice, mallory] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const conversation = await createConversation(stack.apiUrl, alice.token, [], 'alice alone');
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'not for mallory');
    const socket = await connect(1, mallory);
    socket.send({ type: 'resume', cursors: { [conversation.id]: 0, doesNotExist: 0 } });
    assert.deepEqual(await socket.nextFrame('resumed'), { type: 'resumed', recovered: true });
    assert.deepEqual(socket.messages(), []);
  });
});
