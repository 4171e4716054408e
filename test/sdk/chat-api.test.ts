import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ChatApi, ChatApiError, ChatNetworkError, type MessagePageBefore } from '@chat/client';
import { randomUsername } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';

const PASSWORD = 'correct horse battery';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

async function apiError(promise: Promise<unknown>, status: number, code: string): Promise<ChatApiError> {
  const error = await rejection(promise);
  assert.ok(error instanceof ChatApiError, `expected a ChatApiError, got ${String(error)}`);
  assert.equal(error.status, status, error.message);
  assert.equal(error.code, code, error.message);
  assert.equal(error.name, 'ChatApiError');
  assert.ok(error.message.length > 0);
  return error;
}

describe('SDK REST client (ChatApi)', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ gateways: 1 });
  });

  after(async () => {
    await stack?.stop();
  });

  async function signedUp(): Promise<{ api: ChatApi; username: string }> {
    const username = randomUsername('sdk');
    const api = new ChatApi({ baseUrl: stack.apiUrl });
    const result = await api.register(username, PASSWORD);
    api.setToken(result.token);
    return { api, username };
  }

  it('registers, logs in and reads the user back', async () => {
    const username = randomUsername('sdk');
    const anonymous = new ChatApi({ baseUrl: `${stack.apiUrl}/` });
    const registered = await anonymous.register(username, PASSWORD);
    assert.equal(registered.user.username, username);
    assert.ok(Date.parse(registered.expiresAt) > Date.now());

    const loggedIn = await anonymous.login(username, PASSWORD);
    assert.equal(loggedIn.user.username, username);

    // A token function (async) is called per request.
    let calls = 0;
    const api = new ChatApi({
      baseUrl: stack.apiUrl,
      token: async () => {
        calls += 1;
        return loggedIn.token;
      },
    });
    const me = await api.me();
    assert.equal(me.username, username);
    assert.equal(calls, 1);
  });

  it('creates, reads, lists and updates conversations', async () => {
    const alice = await signedUp();
    const bob = await signedUp();
    const created = await alice.api.createConversation({ title: 'plans', users: [bob.username] });
    assert.equal(created.title, 'plans');
    assert.deepEqual(created.users, [alice.username, bob.username].sort());
    assert.equal(created.createdBy, alice.username);

    assert.deepEqual(await bob.api.getConversation(created.id), created);
    const listed = await bob.api.listConversations();
    assert.deepEqual(
      listed.map((conversation) => conversation.id),
      [created.id],
    );

    const renamed = await alice.api.updateConversation(created.id, { title: 'new plans' });
    assert.equal(renamed.title, 'new plans');
    assert.equal((await bob.api.getConversation(created.id)).title, 'new plans');
  });

  it('posts messages and pages through them', async () => {
    const alice = await signedUp();
    const conversation = await alice.api.createConversation({ title: 'paging', users: [] });
    for (let i = 1; i <= 12; i += 1) {
      const message = await alice.api.postMessage(conversation.id, `message ${i}`);
      assert.equal(message.seq, i);
      assert.equal(message.author, alice.username);
    }

    const first = await alice.api.listMessages(conversation.id, { limit: 5 });
    assert.deepEqual(
      first.items.map((message) => message.seq),
      [1, 2, 3, 4, 5],
    );
    assert.equal(first.nextAfter, 5);
    const last = await alice.api.listMessages(conversation.id, { after: 10 });
    assert.deepEqual(
      last.items.map((message) => message.seq),
      [11, 12],
    );
    assert.equal(last.nextAfter, null);

    const all = await alice.api.listAllMessages(conversation.id, { after: 2, pageSize: 4 });
    assert.deepEqual(
      all.map((message) => message.seq),
      [3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
    const range = await alice.api.listAllMessages(conversation.id, { after: 3, until: 9, pageSize: 2 });
    assert.deepEqual(
      range.map((message) => message.seq),
      [4, 5, 6, 7, 8, 9],
    );
    const seen: number[] = [];
    for await (const message of alice.api.iterateMessages(conversation.id, { after: 10 })) seen.push(message.seq);
    assert.deepEqual(seen, [11, 12]);
  });

  it('reads history newest first, page by page back to the oldest', async () => {
    const alice = await signedUp();
    const bob = await signedUp();
    const conversation = await alice.api.createConversation({ title: 'backwards', users: [bob.username] });
    for (let i = 1; i <= 12; i += 1) await alice.api.postMessage(conversation.id, `message ${i}`);

    // Without `before`: the newest page; then each page's nextBefore, until it is null.
    let page: MessagePageBefore = await bob.api.listMessagesBefore(conversation.id, { limit: 5 });
    const pages = [page];
    while (page.nextBefore !== null) {
      page = await bob.api.listMessagesBefore(conversation.id, { before: page.nextBefore, limit: 5 });
      pages.push(page);
    }
    assert.deepEqual(
      pages.map((page) => [page.items.map((message) => message.seq), page.nextBefore]),
      [
        [[8, 9, 10, 11, 12], 8],
        [[3, 4, 5, 6, 7], 3],
        [[1, 2], null],
      ],
    );
    assert.equal(pages[0]?.items[0]?.text, 'message 8');
    const everything = await bob.api.listMessagesBefore(conversation.id);
    assert.deepEqual(everything.items.map((message) => message.seq), Array.from({ length: 12 }, (_, i) => i + 1));
    assert.equal(everything.nextBefore, null);
    assert.deepEqual((await bob.api.listMessagesBefore(conversation.id, { before: 1 })).items, []);

    const stranger = await signedUp();
    await apiError(stranger.api.listMessagesBefore(conversation.id), 404, 'not_found');
    await apiError(bob.api.listMessagesBefore(conversation.id, { before: 0 }), 400, 'invalid_request');
    await apiError(bob.api.listMessagesBefore(conversation.id, { limit: 501 }), 400, 'invalid_request');
  });

  it('leaves conversations: the leaver gets 404 from then on, the last one to leave deletes it', async () => {
    const alice = await signedUp();
    const bob = await signedUp();
    const stranger = await signedUp();
    const conversation = await alice.api.createConversation({ title: 'leaving', users: [bob.username] });
    await alice.api.postMessage(conversation.id, 'hello');

    await apiError(stranger.api.leaveConversation(conversation.id), 404, 'not_found');
    assert.equal(await bob.api.leaveConversation(conversation.id), undefined);
    await apiError(bob.api.getConversation(conversation.id), 404, 'not_found');
    await apiError(bob.api.leaveConversation(conversation.id), 404, 'not_found');
    assert.deepEqual(await bob.api.listConversations(), []);
    assert.deepEqual((await alice.api.getConversation(conversation.id)).users, [alice.username]);

    // The creator may leave too; as the last member she takes the conversation and its history with her.
    await alice.api.leaveConversation(conversation.id);
    await apiError(alice.api.getConversation(conversation.id), 404, 'not_found');
    await apiError(alice.api.listMessages(conversation.id), 404, 'not_found');
    assert.deepEqual(await alice.api.listConversations(), []);
  });

  it('rejects with typed errors: 401, 404, 400, 409', async () => {
    const alice = await signedUp();
    const stranger = await signedUp();
    const conversation = await alice.api.createConversation({ title: 'private', users: [] });

    await apiError(new ChatApi({ baseUrl: stack.apiUrl }).me(), 401, 'unauthenticated');
    await apiError(new ChatApi({ baseUrl: stack.apiUrl, token: 'not-a-jwt' }).listConversations(), 401, 'unauthenticated');
    await apiError(alice.api.login(alice.username, 'wrong password'), 401, 'unauthenticated');

    await apiError(stranger.api.getConversation(conversation.id), 404, 'not_found');
    await apiError(stranger.api.postMessage(conversation.id, 'hello?'), 404, 'not_found');
    await apiError(alice.api.getConversation('no-such-conversation'), 404, 'not_found');

    await apiError(alice.api.postMessage(conversation.id, ''), 400, 'invalid_request');
    await apiError(alice.api.createConversation({ title: 'x', users: ['nobody_here_at_all'] }), 400, 'invalid_request');
    await apiError(alice.api.register('Not A Username', PASSWORD), 400, 'invalid_request');

    await apiError(alice.api.register(alice.username, PASSWORD), 409, 'conflict');
  });

  it('rejects with ChatNetworkError when nothing answers, and on its own timeout', async () => {
    const port = await closedPort();
    const refused = await rejection(new ChatApi({ baseUrl: `http://127.0.0.1:${port}`, token: 't' }).me());
    assert.ok(refused instanceof ChatNetworkError, `expected a ChatNetworkError, got ${String(refused)}`);
    assert.equal(refused.timedOut, false);
    assert.equal(refused.name, 'ChatNetworkError');

    // A server that accepts the connection and never answers.
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => accepted.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const address = silent.address();
      assert.ok(address !== null && typeof address === 'object');
      const timedOut = await rejection(new ChatApi({ baseUrl: `http://127.0.0.1:${address.port}`, timeoutMs: 200 }).me());
      assert.ok(timedOut instanceof ChatNetworkError, `expected a ChatNetworkError, got ${String(timedOut)}`);
      assert.equal(timedOut.timedOut, true);

      const controller = new AbortController();
      const pending = new ChatApi({ baseUrl: `http://127.0.0.1:${address.port}`, timeoutMs: 0 }).me({ signal: controller.signal });
      controller.abort();
      const aborted = await rejection(pending);
      assert.ok(aborted instanceof ChatNetworkError, `expected a ChatNetworkError, got ${String(aborted)}`);
      assert.equal(aborted.timedOut, false);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
