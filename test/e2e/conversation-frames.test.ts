import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { apiRequest, createConversation, postMessage, registerUser, type ConversationBody, type RegisteredUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { connectClient, type ServerFrame, type TestSocket } from '../support/ws-client.js';

/**
 * Version 1.1's live frames about a user's conversations, over two gateway replicas: `conversation`
 * (added, updated, removed) and `read`, to every socket of every affected user, in the order the
 * contract gives.
 */
describe('conversation and read frames (1.1)', () => {
  let stack: Stack;
  const sockets: TestSocket[] = [];

  before(async () => {
    stack = await startStack({ gateways: 2 });
  });

  after(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    await stack?.stop();
  });

  /** A socket of `user` on each gateway replica. */
  async function onEveryReplica(user: RegisteredUser): Promise<TestSocket[]> {
    const opened = await Promise.all(stack.wsUrls.map((url) => connectClient(url, user.token)));
    sockets.push(...opened);
    return opened;
  }

  function conversationFrames(socket: TestSocket, id: string): ServerFrame[] {
    return socket.frames.filter(
      (frame) =>
        (frame.type === 'conversation' && (frame.data as { id: string }).id === id) ||
        ((frame.type === 'message' || frame.type === 'read') && (frame.data as { conversationId?: string } | undefined)?.conversationId === id) ||
        (frame.type === 'read' && frame.conversationId === id),
    );
  }

  function kinds(socket: TestSocket, id: string): string[] {
    return conversationFrames(socket, id).map((frame) => (frame.type === 'conversation' ? String(frame.event) : frame.type));
  }

  function waitForKinds(socket: TestSocket, id: string, expected: string[]): Promise<void> {
    return socket.waitUntil(() => kinds(socket, id).length >= expected.length, `${expected.join(', ')} of ${id}`);
  }

  it('ready says protocol 1.1', async () => {
    const [socket] = await onEveryReplica(await registerUser(stack.apiUrl));
    assert.equal(socket?.frames[0]?.protocol, '1.1');
  });

  it('creation: every socket of every member gets added (the creator too) with its own read state, before the first message', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const aliceSockets = await onEveryReplica(alice);
    const bobSockets = await onEveryReplica(bob);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'live');
    // `added` carries the conversation as it is when the gateway reads it: before any message, it
    // is the one POST answered. (Posted at once, the message may be counted in it: next test.)
    for (const socket of [...aliceSockets, ...bobSockets]) {
      await waitForKinds(socket, conversation.id, ['added']);
      const added = conversationFrames(socket, conversation.id)[0] as ServerFrame;
      assert.deepEqual(Object.keys(added).sort(), ['data', 'event', 'type']);
      assert.deepEqual(added.data, conversation, 'the Conversation as POST answered it');
    }
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'first');
    for (const socket of [...aliceSockets, ...bobSockets]) {
      await waitForKinds(socket, conversation.id, ['added', 'message']);
      assert.deepEqual(kinds(socket, conversation.id), ['added', 'message']);
    }
  });

  it('added always precedes the first message of a conversation, even when it is posted at once', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const bobSockets = await onEveryReplica(bob);
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'rush');
        ids.push(conversation.id);
        await Promise.all([1, 2, 3].map((n) => postMessage(stack.apiUrl, alice.token, conversation.id, `m${n}`)));
      }),
    );
    for (const socket of bobSockets) {
      for (const id of ids) {
        await waitForKinds(socket, id, ['added', 'message', 'message', 'message']);
        assert.deepEqual(kinds(socket, id), ['added', 'message', 'message', 'message'], id);
      }
    }
  });

  it('renames and member changes: updated to those who stay, added to the new, removed to the gone and nothing of it after', async () => {
    const [alice, bob, carol, dave] = await Promise.all([1, 2, 3, 4].map(() => registerUser(stack.apiUrl)));
    const [aliceOn, bobOn, carolOn, daveOn] = await Promise.all([alice, bob, carol, dave].map((user) => onEveryReplica(user as RegisteredUser)));
    const conversation = await createConversation(stack.apiUrl, alice!.token, [bob!.username, carol!.username], 'before');
    const id = conversation.id;
    for (const socket of [...aliceOn!, ...bobOn!, ...carolOn!]) await waitForKinds(socket, id, ['added']);

    const renamed = await apiRequest(stack.apiUrl, 'PATCH', `/api/conversations/${id}`, { token: bob!.token, body: { title: 'after' } });
    assert.equal(renamed.status, 200, renamed.text);
    for (const socket of [...aliceOn!, ...bobOn!, ...carolOn!]) {
      await waitForKinds(socket, id, ['added', 'updated']);
      assert.equal(((conversationFrames(socket, id)[1] as ServerFrame).data as ConversationBody).title, 'after');
    }

    const changed = await apiRequest(stack.apiUrl, 'PATCH', `/api/conversations/${id}`, {
      token: alice!.token,
      body: { users: [bob!.username, dave!.username] },
    });
    assert.equal(changed.status, 200, changed.text);
    for (const socket of [...aliceOn!, ...bobOn!]) await waitForKinds(socket, id, ['added', 'updated', 'updated']);
    for (const socket of carolOn!) {
      await waitForKinds(socket, id, ['added', 'updated', 'removed']);
      assert.deepEqual(conversationFrames(socket, id)[2], { type: 'conversation', event: 'removed', data: { id } });
    }
    for (const socket of daveOn!) {
      await waitForKinds(socket, id, ['added']);
      const added = conversationFrames(socket, id)[0] as ServerFrame;
      assert.deepEqual((added.data as ConversationBody).users, [alice!.username, bob!.username, dave!.username].sort());
    }

    // Dave leaves: he gets removed, the others updated; Carol hears nothing more of it.
    assert.equal((await apiRequest(stack.apiUrl, 'POST', `/api/conversations/${id}/leave`, { token: dave!.token })).status, 204);
    await postMessage(stack.apiUrl, alice!.token, id, 'after the changes');
    for (const socket of daveOn!) await waitForKinds(socket, id, ['added', 'removed']);
    for (const socket of [...aliceOn!, ...bobOn!]) {
      await waitForKinds(socket, id, ['added', 'updated', 'updated', 'updated', 'message']);
      assert.deepEqual(kinds(socket, id), ['added', 'updated', 'updated', 'updated', 'message']);
    }
    for (const socket of carolOn!) assert.deepEqual(kinds(socket, id), ['added', 'updated', 'removed']);
    for (const socket of daveOn!) assert.deepEqual(kinds(socket, id), ['added', 'removed']);
  });

  it('read frames reach every socket of the reader on every replica when the cursor moved, and the author gets none for a post', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const aliceOn = await onEveryReplica(alice);
    const bobOn = await onEveryReplica(bob);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'reading');
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'one');
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'two');
    const read = await apiRequest(stack.apiUrl, 'PUT', `/api/conversations/${conversation.id}/read`, { token: bob.token, body: { seq: 2 } });
    assert.deepEqual(read.body, { conversationId: conversation.id, readSeq: 2, unread: 0 });
    // Not moved: no frame.
    await apiRequest(stack.apiUrl, 'PUT', `/api/conversations/${conversation.id}/read`, { token: bob.token, body: { seq: 1 } });
    await postMessage(stack.apiUrl, bob.token, conversation.id, 'three');
    for (const socket of bobOn) {
      // Messages come through the worker, the read frame straight from the api: no order between them.
      await waitForKinds(socket, conversation.id, ['added', 'message', 'message', 'read', 'message']);
      assert.deepEqual(kinds(socket, conversation.id).sort(), ['added', 'message', 'message', 'message', 'read']);
      const reads = conversationFrames(socket, conversation.id).filter((frame) => frame.type === 'read');
      assert.deepEqual(reads, [{ type: 'read', conversationId: conversation.id, seq: 2 }]);
    }
    for (const socket of aliceOn) {
      await waitForKinds(socket, conversation.id, ['added', 'message', 'message', 'message']);
      assert.deepEqual(kinds(socket, conversation.id), ['added', 'message', 'message', 'message']);
    }
  });

  it('membership changed while the gateways lost their subscriptions still reaches the sockets (added, removed)', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const bobOn = await onEveryReplica(bob);
    const leaving = await createConversation(stack.apiUrl, alice.token, [bob.username], 'bob is removed');
    for (const socket of bobOn) await waitForKinds(socket, leaving.id, ['added']);
    const admin = new Redis(stack.redis.url);
    let created: ConversationBody;
    try {
      // Notices published while no gateway listens are lost: the recovery must say what they said.
      await admin.client('KILL', 'TYPE', 'pubsub');
      created = await createConversation(stack.apiUrl, alice.token, [bob.username], 'made during the outage');
      const removed = await apiRequest(stack.apiUrl, 'PATCH', `/api/conversations/${leaving.id}`, { token: alice.token, body: { users: [] } });
      assert.equal(removed.status, 200, removed.text);
    } finally {
      admin.disconnect();
    }
    await postMessage(stack.apiUrl, alice.token, created.id, 'after the outage');
    for (const socket of bobOn) {
      await waitForKinds(socket, created.id, ['added', 'message']);
      assert.deepEqual(kinds(socket, created.id), ['added', 'message']);
      await waitForKinds(socket, leaving.id, ['added', 'removed']);
      assert.deepEqual(kinds(socket, leaving.id), ['added', 'removed']);
    }
  });
});
