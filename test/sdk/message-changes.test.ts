import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { ChatApi, ChatApiError, ChatConnection } from '@chat/client';
import { createConversation, postMessage, registerUser } from '../support/api-client.js';
import { Recorder } from '../support/sdk-recorder.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

/** The SDK's edits and deletions (1.1) against a real stack: the REST calls, live updates, and recovery through revs. */
describe('SDK edits and deletions (real stack)', () => {
  let stack: Stack;
  const connections: ChatConnection[] = [];

  before(async () => {
    stack = await startStack({ gateways: 2 });
  });

  after(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await stack?.stop();
  });

  function open(token: string, options: { cursors?: Record<string, number>; revs?: Record<string, number> } = {}): Recorder {
    const connection = new ChatConnection({ url: stack.wsUrls, WebSocket, token, minReconnectDelayMs: 50, maxReconnectDelayMs: 500, ...options });
    connections.push(connection);
    const recorder = new Recorder(connection);
    connection.connect();
    return recorder;
  }

  async function pair() {
    const [alice, bob] = [await registerUser(stack.apiUrl), await registerUser(stack.apiUrl)];
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'sdk edits');
    return { alice, bob, conversationId: conversation.id, aliceApi: new ChatApi({ baseUrl: stack.apiUrl, token: alice.token }) };
  }

  it('editMessage and deleteMessage answer the new version; editing a tombstone is a ChatApiError 409', async () => {
    const { alice, conversationId, aliceApi } = await pair();
    const posted = await postMessage(stack.apiUrl, alice.token, conversationId, 'helo');
    const edited = await aliceApi.editMessage(conversationId, posted.seq, 'hello');
    assert.equal(edited.text, 'hello');
    assert.ok(edited.editedAt);
    assert.ok(edited.rev > posted.rev);
    const deleted = await aliceApi.deleteMessage(conversationId, posted.seq);
    assert.equal(deleted.text, '');
    assert.ok(deleted.deletedAt);
    assert.deepEqual(await aliceApi.deleteMessage(conversationId, posted.seq), deleted);
    await assert.rejects(aliceApi.editMessage(conversationId, posted.seq, 'back'), (error) => error instanceof ChatApiError && error.status === 409 && error.code === 'conflict');
  });

  it('emits messageUpdated live, tracks the rev, and after a reconnect replays the changes it missed, once each, in rev order', async () => {
    const { alice, bob, conversationId, aliceApi } = await pair();
    const recorder = open(bob.token);
    await recorder.waitForReadies(1);
    for (const text of ['one', 'two', 'three']) await postMessage(stack.apiUrl, alice.token, conversationId, text);
    await recorder.waitForSeqs(conversationId, 3);
    await aliceApi.editMessage(conversationId, 1, 'one, edited');
    await recorder.waitForUpdates(1);
    assert.deepEqual(
      recorder.updates.map((m) => [m.seq, m.rev, m.text, m.conversationTitle]),
      [[1, 4, 'one, edited', 'sdk edits']],
    );
    assert.equal(recorder.connection.rev(conversationId), 4);

    // Away: the socket closes; the next attempt waits until the changes are made.
    await recorder.connection.close();
    await aliceApi.editMessage(conversationId, 2, 'two, edited'); // rev 5
    await aliceApi.deleteMessage(conversationId, 3); // rev 6
    await postMessage(stack.apiUrl, alice.token, conversationId, 'four'); // seq 4, rev 7
    recorder.connection.connect();
    await recorder.waitForResumes(2);
    await recorder.waitForUpdates(3);
    await recorder.waitForSeqs(conversationId, 4);
    assert.deepEqual(recorder.updates.slice(1).map((m) => [m.seq, m.rev, m.text]), [
      [2, 5, 'two, edited'],
      [3, 6, ''],
    ]);
    assert.deepEqual(recorder.seqs(conversationId), [1, 2, 3, 4]);
    assert.equal(recorder.connection.rev(conversationId), 7);
    assert.deepEqual(recorder.connection.revsSeen(), { [conversationId]: 7 });

    // A connection restored from saved cursors and revs gets only what came after both.
    const restored = open(bob.token, { cursors: recorder.connection.cursors(), revs: recorder.connection.revsSeen() });
    await restored.waitForResumes(1);
    await aliceApi.editMessage(conversationId, 4, 'four, edited'); // rev 8
    await restored.waitForUpdates(1);
    await waitFor(() => recorder.updates.length === 4, 'the live update on the first connection too');
    assert.deepEqual(restored.updates.map((m) => m.rev), [8]);
    assert.deepEqual(restored.messages, []);
  });
});
