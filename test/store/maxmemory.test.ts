import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MESSAGE_TEXT_MAX, deliveryPartition } from '@chat/contracts';
import { startApiInProcess, keysOf, type ApiInProcess } from '../support/api-app.js';
import {
  apiRequest,
  assertErrorShape,
  createConversation,
  randomUsername,
  registerUser,
  type ApiResponse,
  type ConversationBody,
  type RegisteredUser,
} from '../support/api-client.js';

/** Room above what Redis uses once the users exist: a few hundred full-size messages. */
const HEADROOM_BYTES = 1_500_000;
/** Far more posts than the headroom holds, so a loop that never meets OOM ends and fails. */
const POSTS_BOUND = 5000;

describe('Redis at maxmemory with noeviction', () => {
  let app: ApiInProcess;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let conversation: ConversationBody;

  before(async () => {
    app = await startApiInProcess({
      // No worker here: every message stays in the backlog, which must not be what refuses them.
      env: { MAX_DELIVERY_BACKLOG: '1000000', RATE_LIMIT_PER_USER: '100000' },
    });
    [alice, bob] = (await Promise.all([registerUser(app.url), registerUser(app.url)])) as [RegisteredUser, RegisteredUser];
    conversation = await createConversation(app.url, alice.token, [bob.username], 'full');
  });

  after(async () => {
    await app?.redis.config('SET', 'maxmemory', '0').catch(() => undefined);
    await app?.stop();
  });

  const postText = (text: string) =>
    apiRequest(app.url, 'POST', `/api/conversations/${conversation.id}/messages`, { token: alice.token, body: { text } });
  const register = () => apiRequest(app.url, 'POST', '/api/auth/register', { body: { username: randomUsername('oom'), password: 'correct horse battery' } });
  const create = () => apiRequest(app.url, 'POST', '/api/conversations', { token: alice.token, body: { title: 'more', users: [bob.username] } });
  const state = async () => ({
    keys: await keysOf(app),
    seq: await app.redis.hget(app.keys.conversation(conversation.id), 'seq'),
    messages: await app.redis.zcard(app.keys.messages(conversation.id)),
    outbox: await app.redis.zcard(app.keys.outbox(deliveryPartition(conversation.id))),
  });

  test('writes answer 503 and leave nothing half-written, reads answer 200, writes work again once memory is freed', async () => {
    const used = Number(/used_memory:(\d+)/.exec(await app.redis.info('memory'))?.[1]);
    assert.ok(used > 0);
    await app.redis.config('SET', 'maxmemory', String(used + HEADROOM_BYTES));

    let accepted = 0;
    let refused: ApiResponse | undefined;
    const text = 'x'.repeat(MESSAGE_TEXT_MAX);
    while (refused === undefined && accepted < POSTS_BOUND) {
      const response = await postText(text);
      if (response.status === 201) accepted += 1;
      else refused = response;
    }
    assert.ok(refused, `no refusal after ${accepted} posts of ${MESSAGE_TEXT_MAX} characters`);
    assertErrorShape(refused, 503, 'unavailable');
    assert.ok(accepted > 0, 'the headroom held some messages first');

    const full = await state();
    assert.equal(Number(full.seq), accepted, 'the refused post took no seq');
    assert.equal(full.messages, accepted);
    assert.equal(full.outbox, accepted, 'every accepted message, and only those, waits in the outbox');

    assertErrorShape(await postText('one more'), 503, 'unavailable');
    assertErrorShape(await register(), 503, 'unavailable');
    assertErrorShape(await create(), 503, 'unavailable');
    assert.deepEqual(await state(), full, 'nothing half-written by the refused writes');

    const history = await apiRequest(app.url, 'GET', `/api/conversations/${conversation.id}/messages?limit=5`, { token: bob.token });
    assert.equal(history.status, 200, `history reads keep working: ${history.text}`);
    const list = await apiRequest(app.url, 'GET', '/api/conversations', { token: bob.token });
    assert.equal(list.status, 200, `conversation list reads keep working: ${list.text}`);
    const me = await apiRequest(app.url, 'GET', '/api/me', { token: alice.token });
    assert.equal(me.status, 200, `/api/me keeps working: ${me.text}`);

    // Memory freed (here: the limit raised): writes succeed again, carrying on where they stopped.
    await app.redis.config('SET', 'maxmemory', '0');
    const resumed = await postText('after');
    assert.equal(resumed.status, 201, resumed.text);
    assert.equal((resumed.body as { seq: number }).seq, accepted + 1);
    assert.equal((await register()).status, 201);
    assert.equal((await create()).status, 201);
  });
});
