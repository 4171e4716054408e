import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { messageSchema } from '@chat/contracts';
import { storeSnapshot } from '../support/api-app.js';
import {
  ISO_UTC,
  apiRequest,
  assertErrorShape,
  createConversation,
  postMessage,
  registerUser,
  type MessageBody,
  type RegisteredUser,
} from '../support/api-client.js';
import { sharedApiInProcess } from '../support/shared-fixtures.js';

/**
 * Edits and deletions (contract 1.1): author only, tombstones, the conversation's rev, and the
 * update entries they leave in the outbox for the drain. No worker runs here.
 */

const app = sharedApiInProcess();

async function trio() {
  const [alice, bob, eve] = await Promise.all([registerUser(app.url), registerUser(app.url), registerUser(app.url)]);
  const conversation = await createConversation(app.url, alice.token, [bob.username], 'edits');
  return { alice, bob, eve, conversation };
}

const edit = (user: RegisteredUser, id: string, seq: number | string, body: unknown) =>
  apiRequest(app.url, 'PATCH', `/api/conversations/${id}/messages/${seq}`, { token: user.token, body });
const remove = (user: RegisteredUser, id: string, seq: number | string) =>
  apiRequest(app.url, 'DELETE', `/api/conversations/${id}/messages/${seq}`, { token: user.token });

async function history(user: RegisteredUser, id: string): Promise<MessageBody[]> {
  const response = await apiRequest(app.url, 'GET', `/api/conversations/${id}/messages`, { token: user.token });
  assert.equal(response.status, 200, response.text);
  return (response.body as { items: MessageBody[] }).items;
}

/** The outbox entries of the api's partition, oldest first. */
async function outboxEntries(): Promise<string[]> {
  return app.redis.zrange(app.keys.outbox(0), 0, -1);
}

describe('PATCH and DELETE /api/conversations/:id/messages/:seq', () => {
  test('rev counts every change: 1 with the first message, +1 per message, edit and deletion', async () => {
    const { alice, bob, conversation } = await trio();
    const first = await postMessage(app.url, alice.token, conversation.id, 'helo');
    const second = await postMessage(app.url, bob.token, conversation.id, 'hi');
    assert.deepEqual([first.rev, second.rev], [1, 2]);

    const edited = await edit(alice, conversation.id, 1, { text: 'hello' });
    assert.equal(edited.status, 200, edited.text);
    const message = messageSchema.parse(edited.body);
    assert.deepEqual(Object.keys(edited.body as object).sort(), ['author', 'conversationId', 'createdAt', 'editedAt', 'id', 'rev', 'seq', 'text']);
    assert.equal(message.text, 'hello');
    assert.equal(message.rev, 3);
    assert.equal(message.seq, 1);
    assert.equal(message.id, first.id);
    assert.equal(message.createdAt, first.createdAt);
    assert.match(message.editedAt ?? '', ISO_UTC);

    const deleted = await remove(bob, conversation.id, 2);
    assert.equal(deleted.status, 200, deleted.text);
    const tombstone = messageSchema.parse(deleted.body);
    assert.equal(tombstone.text, '');
    assert.equal(tombstone.rev, 4);
    assert.match(tombstone.deletedAt ?? '', ISO_UTC);

    const third = await postMessage(app.url, alice.token, conversation.id, 'and on');
    assert.deepEqual([third.seq, third.rev], [3, 5]);
    // History answers the current version of every message.
    assert.deepEqual(await history(bob, conversation.id), [message, tombstone, third]);
  });

  test('each change leaves one update entry with its new version in the outbox of its partition', async () => {
    const { alice, conversation } = await trio();
    await postMessage(app.url, alice.token, conversation.id, 'one');
    const edited = (await edit(alice, conversation.id, 1, { text: 'two' })).body as MessageBody;
    const entries = (await outboxEntries()).filter((entry) => entry.startsWith(`${conversation.id} `));
    assert.equal(entries.length, 2);
    assert.equal(entries[1], `${conversation.id} 1 ${edited.id} u ${JSON.stringify(edited)}`);
  });

  test('deleting a tombstone again answers it unchanged: no new rev, no outbox entry', async () => {
    const { alice, conversation } = await trio();
    await postMessage(app.url, alice.token, conversation.id, 'oops');
    const first = await remove(alice, conversation.id, 1);
    assert.equal(first.status, 200);
    const snapshot = await storeSnapshot(app);
    const again = await remove(alice, conversation.id, 1);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, first.body);
    assert.deepEqual(await storeSnapshot(app), snapshot);
  });

  test('editing a tombstone is 409 and changes nothing', async () => {
    const { alice, conversation } = await trio();
    await postMessage(app.url, alice.token, conversation.id, 'gone soon');
    await remove(alice, conversation.id, 1);
    const snapshot = await storeSnapshot(app);
    assertErrorShape(await edit(alice, conversation.id, 1, { text: 'back' }), 409, 'conflict');
    assert.deepEqual(await storeSnapshot(app), snapshot);
  });

  test('another member gets 403, a non-member 404, a missing seq 404, an unknown conversation 404: nothing changes', async () => {
    const { alice, bob, eve, conversation } = await trio();
    await postMessage(app.url, alice.token, conversation.id, 'mine');
    const snapshot = await storeSnapshot(app);
    assertErrorShape(await edit(bob, conversation.id, 1, { text: 'yours?' }), 403, 'forbidden');
    assertErrorShape(await remove(bob, conversation.id, 1), 403, 'forbidden');
    assertErrorShape(await edit(eve, conversation.id, 1, { text: 'hi' }), 404, 'not_found');
    assertErrorShape(await remove(eve, conversation.id, 1), 404, 'not_found');
    assertErrorShape(await edit(alice, conversation.id, 2, { text: 'hi' }), 404, 'not_found');
    assertErrorShape(await remove(alice, conversation.id, 99), 404, 'not_found');
    assertErrorShape(await remove(alice, 'nope', 1), 404, 'not_found');
    assert.deepEqual(await storeSnapshot(app), snapshot);
  });

  test('a malformed seq or body is 400 and changes nothing', async () => {
    const { alice, conversation } = await trio();
    await postMessage(app.url, alice.token, conversation.id, 'x');
    const snapshot = await storeSnapshot(app);
    for (const seq of ['0', '-1', 'abc', '1.5', '1e3', '9999999999999999']) {
      assertErrorShape(await edit(alice, conversation.id, seq, { text: 'y' }), 400, 'invalid_request');
      assertErrorShape(await remove(alice, conversation.id, seq), 400, 'invalid_request');
    }
    for (const body of [{}, { text: '' }, { text: 'x'.repeat(4001) }, { text: 3 }, { text: 'y', extra: 1 }]) {
      assertErrorShape(await edit(alice, conversation.id, 1, body), 400, 'invalid_request');
    }
    assert.deepEqual(await storeSnapshot(app), snapshot);
  });

  test('concurrent edits of one message each take their own rev; the last rev is the stored version', async () => {
    const { alice, conversation } = await trio();
    await postMessage(app.url, alice.token, conversation.id, 'v0');
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => edit(alice, conversation.id, 1, { text: `v${i + 1}` })));
    const revs = answers.map((answer) => {
      assert.equal(answer.status, 200, answer.text);
      return (answer.body as MessageBody).rev;
    });
    assert.deepEqual([...revs].sort((a, b) => a - b), [2, 3, 4, 5]);
    const [stored] = await history(alice, conversation.id);
    assert.equal(stored?.rev, 5);
    assert.equal(stored?.text, (answers[revs.indexOf(5)]?.body as MessageBody).text);
  });
});

describe('PATCH and DELETE while the api sheds load', () => {
  // No worker runs here: the outbox only grows, so the backlog passes its bound for good.
  const shedding = sharedApiInProcess({ env: { MAX_DELIVERY_BACKLOG: '2' } });

  test('a change owes a delivery like a message: 503 with Retry-After and nothing changed while the backlog is over its bound', async () => {
    const owner = await registerUser(shedding.url);
    const conversation = await createConversation(shedding.url, owner.token, [], 'shed');
    await postMessage(shedding.url, owner.token, conversation.id, 'one');
    await postMessage(shedding.url, owner.token, conversation.id, 'two');
    await postMessage(shedding.url, owner.token, conversation.id, 'three');
    const path = `/api/conversations/${conversation.id}/messages`;
    // The backlog is sampled on a timer: wait (bounded) until posts are refused.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const post = await apiRequest(shedding.url, 'POST', path, { token: owner.token, body: { text: 'more?' } });
      if (post.status === 503) break;
      assert.equal(post.status, 201, post.text);
      assert.ok(Date.now() < deadline, 'the api never started shedding');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const snapshot = await storeSnapshot(shedding);
    for (const response of [
      await apiRequest(shedding.url, 'PATCH', `${path}/1`, { token: owner.token, body: { text: 'edited' } }),
      await apiRequest(shedding.url, 'DELETE', `${path}/2`, { token: owner.token }),
    ]) {
      assertErrorShape(response, 503, 'unavailable');
      assert.ok(Number(response.headers.get('retry-after')) >= 1);
    }
    assert.deepEqual(await storeSnapshot(shedding), snapshot);
  });
});
