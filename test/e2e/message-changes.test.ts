import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message, Summary } from '@chat/contracts';
import { apiRequest, createConversation, postMessage, registerUser, type RegisteredUser } from '../support/api-client.js';
import { sharedStack } from '../support/shared-fixtures.js';
import type { ServerFrame, TestSocket } from '../support/ws-client.js';

/**
 * Edits and deletions through real processes (api, worker, two gateways): `message_updated` to
 * every member socket on both replicas, every frame of a conversation in rev order, and recovery
 * through `revs` in `resume`.
 */
describe('edits and deletions, live and recovered', () => {
  const { stack, connect } = sharedStack({ gateways: 2 });

  async function change(user: RegisteredUser, id: string, seq: number, text?: string): Promise<Message> {
    const path = `/api/conversations/${id}/messages/${seq}`;
    const response = await apiRequest(stack.apiUrl, text === undefined ? 'DELETE' : 'PATCH', path, {
      token: user.token,
      ...(text === undefined ? {} : { body: { text } }),
    });
    assert.equal(response.status, 200, response.text);
    return response.body as Message;
  }

  /** The frames of one conversation that carry a Summary, in arrival order. */
  const framesOf = (socket: TestSocket, conversationId: string) =>
    socket.frames
      .filter((frame) => frame.type === 'message' || frame.type === 'message_updated')
      .filter((frame) => (frame.data as Summary).conversationId === conversationId) as (ServerFrame & { data: Summary })[];

  const waitForRev = (socket: TestSocket, conversationId: string, rev: number) =>
    socket.waitUntil(() => framesOf(socket, conversationId).some((frame) => frame.data.rev >= rev), `rev ${rev}`);

  it('every member socket, on both replicas, gets each edit and deletion as message_updated, in rev order', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const watchers = [await connect(0, alice), await connect(1, bob), await connect(0, bob)];
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'edits live');
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'helo');
    await postMessage(stack.apiUrl, bob.token, conversation.id, 'hi');
    // Delivered before they change: a socket that had not got a message yet would get it once, as
    // a `message` in its later version (that order is tested in conversation-stream.test.ts).
    for (const socket of watchers) await waitForRev(socket, conversation.id, 2);
    const edited = await change(alice, conversation.id, 1, 'hello');
    const tombstone = await change(bob, conversation.id, 2);
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'still here?');
    // A second deletion of a tombstone: no frame.
    await change(bob, conversation.id, 2);

    for (const socket of watchers) {
      await waitForRev(socket, conversation.id, 5);
      const frames = framesOf(socket, conversation.id);
      assert.deepEqual(
        frames.map((frame) => [frame.type, frame.data.seq, frame.data.rev]),
        [
          ['message', 1, 1],
          ['message', 2, 2],
          ['message_updated', 1, 3],
          ['message_updated', 2, 4],
          ['message', 3, 5],
        ],
      );
      assert.deepEqual(frames[2]?.data, { ...edited, conversationTitle: 'edits live' });
      assert.deepEqual(frames[3]?.data, { ...tombstone, conversationTitle: 'edits live' });
    }
  });

  it('resume with revs replays, in rev order, the messages after the cursor and the changes above revs at or below it', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'edits offline');
    for (const text of ['one', 'two', 'three']) await postMessage(stack.apiUrl, alice.token, conversation.id, text);
    // Bob saw seqs 1..3 (revs 1..3) and went offline; meanwhile:
    await change(alice, conversation.id, 2, 'two, edited'); // rev 4
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'four'); // seq 4, rev 5
    await change(alice, conversation.id, 4, 'four, edited'); // rev 6
    await change(alice, conversation.id, 1); // rev 7

    const socket = await connect(1, bob);
    const from = socket.frames.length;
    socket.send({ type: 'resume', cursors: { [conversation.id]: 3 }, revs: { [conversation.id]: 3 } });
    assert.deepEqual(await socket.nextFrame('resumed', from), { type: 'resumed', recovered: true });
    assert.deepEqual(
      framesOf(socket, conversation.id).map((frame) => [frame.type, frame.data.seq, frame.data.rev, frame.data.text]),
      [
        ['message_updated', 2, 4, 'two, edited'],
        ['message', 4, 6, 'four, edited'],
        ['message_updated', 1, 7, ''],
      ],
    );

    // Live frames continue after the replay, in rev order.
    await change(alice, conversation.id, 3, 'three, edited'); // rev 8
    await waitForRev(socket, conversation.id, 8);
    assert.deepEqual(framesOf(socket, conversation.id).at(-1)?.data.rev, 8);
  });

  it('resume without revs behaves as in version 1: the messages after the cursor, current versions, no updates', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'v1 client');
    for (const text of ['one', 'two']) await postMessage(stack.apiUrl, alice.token, conversation.id, text);
    await change(alice, conversation.id, 1, 'one, edited');
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'three');
    await change(alice, conversation.id, 2, 'two, edited');

    const socket = await connect(0, bob);
    const from = socket.frames.length;
    socket.send({ type: 'resume', cursors: { [conversation.id]: 1 } });
    assert.deepEqual(await socket.nextFrame('resumed', from), { type: 'resumed', recovered: true });
    assert.deepEqual(
      framesOf(socket, conversation.id).map((frame) => [frame.type, frame.data.seq, frame.data.text]),
      [
        ['message', 2, 'two, edited'],
        ['message', 3, 'three'],
      ],
    );
  });
});
