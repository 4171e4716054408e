import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { ChatApi, ChatApiError, ChatConnection, MessageOutbox, type ConversationEvent, type Message, type Summary } from '@chat/client';
import { registerUser, type RegisteredUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

/** The SDK's 1.1 parts against a real stack: read state, activity order, live conversation and read events, the outbox. */
describe('SDK: conversation state, live membership and sending exactly once (real stack)', () => {
  let stack: Stack;
  const connections: ChatConnection[] = [];
  const outboxes: MessageOutbox[] = [];

  before(async () => {
    stack = await startStack({ gateways: 2 });
  });

  after(async () => {
    for (const outbox of outboxes) outbox.close();
    await Promise.all(connections.map((connection) => connection.close()));
    await stack?.stop();
  });

  function apiOf(user: RegisteredUser): ChatApi {
    return new ChatApi({ baseUrl: stack.apiUrl, token: user.token, timeoutMs: 3000 });
  }

  /** A live connection of `user` recording its 1.1 events. */
  function live(user: RegisteredUser, api: ChatApi) {
    const connection = new ChatConnection({ url: stack.wsUrls, WebSocket, token: user.token, api, minReconnectDelayMs: 50, maxReconnectDelayMs: 300 });
    connections.push(connection);
    const seen = { conversations: [] as ConversationEvent[], reads: [] as [string, number][], messages: [] as Summary[], protocols: [] as (string | undefined)[] };
    connection.on('conversation', (change) => seen.conversations.push(change));
    connection.on('read', (id, seq) => seen.reads.push([id, seq]));
    connection.on('message', (message) => seen.messages.push(message));
    connection.on('ready', (info) => seen.protocols.push(info.protocol));
    connection.connect();
    return { connection, seen };
  }

  it('markRead, unread and order: activity; read and conversation events reach the other device', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const aliceApi = apiOf(alice);
    const bobApi = apiOf(bob);
    const bobLive = live(bob, bobApi);
    await waitFor(() => bobLive.connection.state === 'connected', 'bob connected');
    assert.deepEqual(bobLive.seen.protocols, ['1.1']);

    const older = await aliceApi.createConversation({ title: 'older', users: [bob.username] });
    const newer = await aliceApi.createConversation({ title: 'newer', users: [bob.username] });
    await waitFor(() => bobLive.seen.conversations.length === 2, 'two added events');
    assert.deepEqual(
      bobLive.seen.conversations.map((change) => (change.event === 'removed' ? change.conversationId : change.conversation.title)),
      ['older', 'newer'],
    );
    await aliceApi.postMessage(older.id, 'one');
    await aliceApi.postMessage(older.id, 'two');
    assert.deepEqual((await bobApi.listConversations({ order: 'activity' })).map((c) => [c.title, c.unread]), [['older', 2], ['newer', 0]]);
    assert.deepEqual((await bobApi.listConversations()).map((c) => c.title), ['older', 'newer']);

    assert.deepEqual(await bobApi.markRead(older.id, 1), { conversationId: older.id, readSeq: 1, unread: 1 });
    await waitFor(() => bobLive.seen.reads.length === 1, 'a read event');
    assert.deepEqual(bobLive.seen.reads, [[older.id, 1]]);
    await assert.rejects(bobApi.markRead(older.id, 3), (error: unknown) => error instanceof ChatApiError && error.status === 400);

    await aliceApi.updateConversation(newer.id, { users: [] });
    await waitFor(() => bobLive.seen.conversations.length === 3, 'a removed event');
    assert.deepEqual(bobLive.seen.conversations[2], { event: 'removed', conversationId: newer.id });
  });

  it('postMessage with a clientId stores once: a repeat answers the first message', async () => {
    const alice = await registerUser(stack.apiUrl);
    const api = apiOf(alice);
    const conversation = await api.createConversation({ title: 'once', users: [] });
    const first = await api.postMessage(conversation.id, 'hello', { clientId: 'sdk-once' });
    const again = await api.postMessage(conversation.id, 'hello', { clientId: 'sdk-once' });
    assert.deepEqual(again, first);
    const generated = await api.postMessage(conversation.id, 'fresh');
    assert.match(generated.clientId ?? '', /^[A-Za-z0-9_-]{22}$/, 'the SDK chose one');
    await assert.rejects(api.postMessage(conversation.id, 'changed', { clientId: 'sdk-once' }), (error: unknown) => error instanceof ChatApiError && error.code === 'conflict');
    assert.equal((await api.listAllMessages(conversation.id)).length, 2);
  });

  it('the outbox keeps messages while the api is away, sends them once and in order when it is back, and matches live copies', async () => {
    const alice = await registerUser(stack.apiUrl);
    const api = apiOf(alice);
    const conversation = await api.createConversation({ title: 'outbox', users: [] });
    const aliceLive = live(alice, api);
    await waitFor(() => aliceLive.connection.state === 'connected', 'alice connected');
    const outbox = new MessageOutbox({ api, backoff: { minDelayMs: 50, maxDelayMs: 200 } });
    outboxes.push(outbox);
    const sent: [string, Message | Summary][] = [];
    outbox.on('sent', (pending, message) => sent.push([pending.clientId, message]));
    // Live copies settle pending ones: the page shows one bubble per message.
    aliceLive.connection.on('message', (message) => outbox.delivered(message));

    await stack.api.kill();
    const texts = ['first while away', 'second while away', 'third while away'];
    const pending = texts.map((text) => outbox.send(conversation.id, text));
    await waitFor(() => (pending[0]?.attempts ?? 0) >= 2, 'a retry while the api is away');
    assert.deepEqual(outbox.pending(conversation.id).map((message) => message.text), texts);

    await stack.restartApi();
    outbox.flush();
    await waitFor(() => outbox.pending().length === 0 && aliceLive.seen.messages.length === 3, 'all sent and delivered', 15_000);
    const stored = await api.listAllMessages(conversation.id);
    assert.deepEqual(stored.map((message) => message.text), texts, 'once each, in the order sent');
    assert.deepEqual(stored.map((message) => message.clientId), pending.map((message) => message.clientId));
    assert.deepEqual(sent.map(([clientId]) => clientId), pending.map((message) => message.clientId), 'each settled once');
    assert.deepEqual(aliceLive.seen.messages.map((message) => message.clientId), pending.map((message) => message.clientId));
  });

  it('the outbox drops a message the server refuses for good and carries on with the next', async () => {
    const alice = await registerUser(stack.apiUrl);
    const api = apiOf(alice);
    const conversation = await api.createConversation({ title: 'refusals', users: [] });
    const outbox = new MessageOutbox({ api, backoff: { minDelayMs: 50, maxDelayMs: 200 } });
    outboxes.push(outbox);
    const failed: string[] = [];
    outbox.on('failed', (_pending, error) => failed.push(error.code));
    outbox.send(conversation.id, 'x'.repeat(5000));
    outbox.send(conversation.id, 'fine');
    await waitFor(() => outbox.pending().length === 0, 'both settled');
    assert.deepEqual(failed, ['invalid_request']);
    assert.deepEqual((await api.listAllMessages(conversation.id)).map((message) => message.text), ['fine']);
  });
});
