import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CLIENT_ID_TTL_MS } from '@chat/contracts';
import { connectRedis } from '@chat/store';
import { storeSnapshot } from '../support/api-app.js';
import {
  ISO_UTC,
  apiRequest,
  assertErrorShape,
  createConversation,
  postMessage,
  registerUser,
  type ConversationBody,
  type MessageBody,
  type RegisteredUser,
} from '../support/api-client.js';
import { sharedApiInProcess } from '../support/shared-fixtures.js';

const app = sharedApiInProcess();

async function registerMany(count: number): Promise<RegisteredUser[]> {
  return Promise.all(Array.from({ length: count }, () => registerUser(app.url)));
}

async function getConversation(token: string, id: string): Promise<ConversationBody> {
  const response = await apiRequest(app.url, 'GET', `/api/conversations/${id}`, { token });
  assert.equal(response.status, 200, response.text);
  return response.body as ConversationBody;
}

async function list(token: string, query = ''): Promise<ConversationBody[]> {
  const response = await apiRequest(app.url, 'GET', `/api/conversations${query}`, { token });
  assert.equal(response.status, 200, response.text);
  return (response.body as { items: ConversationBody[] }).items;
}

function markRead(token: string, id: string, body: unknown) {
  return apiRequest(app.url, 'PUT', `/api/conversations/${id}/read`, { token, body });
}

function post(token: string, id: string, body: unknown) {
  return apiRequest(app.url, 'POST', `/api/conversations/${id}/messages`, { token, body });
}

/** What was published on the users' channels while `during` ran, in order. */
async function noticesDuring(usernames: string[], during: () => Promise<unknown>): Promise<string[]> {
  const subscriber = connectRedis({ url: app.redisUrl, name: 'test:notices', role: 'subscriber' });
  const notices: string[] = [];
  subscriber.on('message', (channel: string, message: string) => notices.push(`${channel.slice(app.keys.userChannelPrefix.length)} ${message}`));
  try {
    await subscriber.subscribe(...usernames.map((username) => app.keys.userChannel(username)));
    await during();
    // A PING answered after the change's PUBLISH: every notice published before it has arrived.
    await subscriber.ping();
    return notices;
  } finally {
    subscriber.disconnect();
  }
}

describe('conversation state (1.1)', () => {
  test('lastSeq, lastMessageAt, readSeq and unread follow posts; posting moves only the author\'s cursor', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username]);
    assert.deepEqual([conversation.lastSeq, conversation.lastMessageAt, conversation.readSeq, conversation.unread], [0, null, 0, 0]);
    await postMessage(app.url, alice.token, conversation.id, 'one');
    const second = await postMessage(app.url, alice.token, conversation.id, 'two');

    const forAlice = await getConversation(alice.token, conversation.id);
    assert.deepEqual([forAlice.lastSeq, forAlice.lastMessageAt, forAlice.readSeq, forAlice.unread], [2, second.createdAt, 2, 0]);
    const forBob = await getConversation(bob.token, conversation.id);
    assert.deepEqual([forBob.lastSeq, forBob.lastMessageAt, forBob.readSeq, forBob.unread], [2, second.createdAt, 0, 2]);
    assert.match(forBob.lastMessageAt ?? '', ISO_UTC);
    assert.deepEqual(await list(bob.token), [forBob]);
  });

  test('PUT read moves the cursor forward only, answers the state, and tells the user\'s channel only when it moved', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username]);
    for (const text of ['a', 'b', 'c']) await postMessage(app.url, alice.token, conversation.id, text);

    let answer: Awaited<ReturnType<typeof markRead>> | undefined;
    let notices = await noticesDuring([bob.username, alice.username], async () => {
      answer = await markRead(bob.token, conversation.id, { seq: 2 });
    });
    assert.equal(answer?.status, 200, answer?.text);
    assert.deepEqual(answer?.body, { conversationId: conversation.id, readSeq: 2, unread: 1 });
    assert.deepEqual(notices, [`${bob.username} =${conversation.id} 2`]);

    // A lower seq leaves it where it is, and tells nobody.
    notices = await noticesDuring([bob.username], async () => {
      answer = await markRead(bob.token, conversation.id, { seq: 1 });
    });
    assert.deepEqual(answer?.body, { conversationId: conversation.id, readSeq: 2, unread: 1 });
    assert.deepEqual(notices, []);
    assert.equal((await getConversation(bob.token, conversation.id)).readSeq, 2);

    // The author's post moves her cursor without a read notice (her sockets get the message).
    notices = await noticesDuring([alice.username], () => postMessage(app.url, alice.token, conversation.id, 'd'));
    assert.deepEqual(notices, []);
    assert.equal((await getConversation(alice.token, conversation.id)).readSeq, 4);

    answer = await markRead(bob.token, conversation.id, { seq: 4 });
    assert.deepEqual(answer.body, { conversationId: conversation.id, readSeq: 4, unread: 0 });
  });

  test('PUT read refusals change nothing: seq above lastSeq, bad bodies, non-members, malformed ids', async () => {
    const [alice, bob, mallory] = (await registerMany(3)) as [RegisteredUser, RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username]);
    await postMessage(app.url, alice.token, conversation.id, 'only one');
    const before = await storeSnapshot(app);
    assertErrorShape(await markRead(bob.token, conversation.id, { seq: 2 }), 400, 'invalid_request');
    for (const body of [{}, { seq: -1 }, { seq: 1.5 }, { seq: '1' }, { seq: 1, extra: true }, [1]]) {
      assertErrorShape(await markRead(bob.token, conversation.id, body), 400, 'invalid_request');
    }
    assertErrorShape(await markRead(mallory.token, conversation.id, { seq: 1 }), 404, 'not_found');
    assertErrorShape(await markRead(bob.token, 'nope-nope', { seq: 0 }), 404, 'not_found');
    assertErrorShape(await markRead(bob.token, 'bad*id', { seq: 0 }), 400, 'invalid_request');
    assertErrorShape(await apiRequest(app.url, 'PUT', `/api/conversations/${conversation.id}/read`, { body: { seq: 1 } }), 401, 'unauthenticated');
    assert.deepEqual(await storeSnapshot(app), before);
  });

  test('order=activity: newest lastMessageAt, else createdAt, first; another order is 400', async () => {
    const [alice] = (await registerMany(1)) as [RegisteredUser];
    const quiet = await createConversation(app.url, alice.token, [], 'quiet');
    const busy = await createConversation(app.url, alice.token, [], 'busy');
    const fresh = await createConversation(app.url, alice.token, [], 'fresh');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await postMessage(app.url, alice.token, busy.id, 'moves busy up');
    assert.deepEqual((await list(alice.token)).map((c) => c.title), ['quiet', 'busy', 'fresh']);
    assert.deepEqual((await list(alice.token, '?order=activity')).map((c) => c.title), ['busy', 'fresh', 'quiet']);
    await postMessage(app.url, alice.token, quiet.id, 'now quiet is newest');
    assert.deepEqual((await list(alice.token, '?order=activity')).map((c) => c.title), ['quiet', 'busy', 'fresh']);
    assert.ok(fresh.id);
    for (const query of ['?order=created', '?order=', '?order=activity&order=activity', '?sort=activity']) {
      assertErrorShape(await apiRequest(app.url, 'GET', `/api/conversations${query}`, { token: alice.token }), 400, 'invalid_request');
    }
  });

  test('a long list costs a few commands per conversation, not one per field', async () => {
    const [alice] = (await registerMany(1)) as [RegisteredUser];
    const count = 40;
    for (let i = 0; i < count; i += 1) await createConversation(app.url, alice.token, [], `c${i}`);
    // The app has its own redis-server: what it counts while the list is read is the list's.
    await app.redis.config('RESETSTAT');
    assert.equal((await list(alice.token, '?order=activity')).length, count);
    const stats = String(await app.redis.info('commandstats'));
    const calls = (command: string) => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
    // The conversation's fields by name (HMGET): its hash also holds a field per author.
    assert.deepEqual([calls('hmget'), calls('hgetall'), calls('zrange'), calls('hget')], [count, 0, count + 1, count], stats);
  });

  test('renames and member changes tell every staying member (updated), new ones (joined) and removed ones (left)', async () => {
    const [alice, bob, carol, dave] = (await registerMany(4)) as [RegisteredUser, RegisteredUser, RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username, carol.username]);
    const id = conversation.id;
    const everyone = [alice.username, bob.username, carol.username, dave.username];
    let notices = await noticesDuring(everyone, () =>
      apiRequest(app.url, 'PATCH', `/api/conversations/${id}`, { token: alice.token, body: { users: [bob.username, dave.username] } }),
    );
    assert.deepEqual(notices.sort(), [`${alice.username} ~${id}`, `${bob.username} ~${id}`, `${carol.username} -${id}`, `${dave.username} +${id}`].sort());
    notices = await noticesDuring(everyone, () => apiRequest(app.url, 'PATCH', `/api/conversations/${id}`, { token: bob.token, body: { title: 'renamed' } }));
    assert.deepEqual(notices.sort(), [`${alice.username} ~${id}`, `${bob.username} ~${id}`, `${dave.username} ~${id}`].sort());
    notices = await noticesDuring(everyone, () => apiRequest(app.url, 'POST', `/api/conversations/${id}/leave`, { token: dave.token }));
    assert.deepEqual(notices.sort(), [`${alice.username} ~${id}`, `${bob.username} ~${id}`, `${dave.username} -${id}`].sort());
  });

  test('the last member leaving deletes the read cursors with the conversation', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username]);
    await postMessage(app.url, alice.token, conversation.id, 'hi');
    await markRead(bob.token, conversation.id, { seq: 1 });
    assert.equal(await app.redis.exists(app.keys.reads(conversation.id)), 1);
    await apiRequest(app.url, 'POST', `/api/conversations/${conversation.id}/leave`, { token: bob.token });
    await apiRequest(app.url, 'POST', `/api/conversations/${conversation.id}/leave`, { token: alice.token });
    assert.equal(await app.redis.exists(app.keys.reads(conversation.id)), 0);
    assert.equal(await app.redis.exists(app.keys.conversation(conversation.id)), 0);
  });

  test('a post moves the author\'s cursor with no write to the read cursors; either place counts, the higher wins', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username]);
    for (const text of ['1', '2', '3']) await postMessage(app.url, bob.token, conversation.id, text);
    await postMessage(app.url, alice.token, conversation.id, '4');
    // The author's cursor is the seq of her last message, kept in the conversation's own hash.
    assert.equal(await app.redis.exists(app.keys.reads(conversation.id)), 0);
    assert.equal((await getConversation(alice.token, conversation.id)).readSeq, 4);
    assert.equal((await getConversation(bob.token, conversation.id)).readSeq, 3);
    // A cursor in the reads hash, as earlier releases' appends wrote it, still counts when higher.
    for (const text of ['5', '6']) await postMessage(app.url, bob.token, conversation.id, text);
    await app.redis.hset(app.keys.reads(conversation.id), alice.username, 5);
    assert.deepEqual((await list(alice.token)).map((c) => [c.readSeq, c.unread]), [[5, 1]]);
    // PUT read compares with the higher of the two: below it nothing moves.
    let answer = await markRead(bob.token, conversation.id, { seq: 2 });
    assert.deepEqual(answer.body, { conversationId: conversation.id, readSeq: 6, unread: 0 });
    answer = await markRead(alice.token, conversation.id, { seq: 4 });
    assert.deepEqual(answer.body, { conversationId: conversation.id, readSeq: 5, unread: 1 });
    answer = await markRead(alice.token, conversation.id, { seq: 6 });
    assert.deepEqual(answer.body, { conversationId: conversation.id, readSeq: 6, unread: 0 });
    assert.equal(await app.redis.hget(app.keys.reads(conversation.id), alice.username), '6');
  });
});

describe('sending exactly once: clientId (1.1)', () => {
  test('a repeat answers 200 with the first message and stores nothing; another text is 409', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username]);
    const first = await post(alice.token, conversation.id, { text: 'once', clientId: 'c-1_A' });
    assert.equal(first.status, 201, first.text);
    const message = first.body as MessageBody;
    assert.equal(message.clientId, 'c-1_A');

    const before = await storeSnapshot(app);
    const repeat = await post(alice.token, conversation.id, { text: 'once', clientId: 'c-1_A' });
    assert.equal(repeat.status, 200, repeat.text);
    assert.deepEqual(repeat.body, message);
    assertErrorShape(await post(alice.token, conversation.id, { text: 'twice?', clientId: 'c-1_A' }), 409, 'conflict');
    // Only the rate-limit counter moved.
    const after = await storeSnapshot(app);
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      if (!key.includes(':rate:')) assert.equal(after.get(key), before.get(key), key);
    }

    // History and the list carry it once.
    const history = await apiRequest(app.url, 'GET', `/api/conversations/${conversation.id}/messages`, { token: bob.token });
    assert.deepEqual((history.body as { items: MessageBody[] }).items, [message]);
    // Others and other conversations use the same clientId freely.
    assert.equal((await post(bob.token, conversation.id, { text: 'once', clientId: 'c-1_A' })).status, 201);
    const other = await createConversation(app.url, alice.token, []);
    assert.equal((await post(alice.token, other.id, { text: 'once', clientId: 'c-1_A' })).status, 201);
    // Remembered for at least 24 hours.
    const ttl = await app.redis.pttl(app.keys.clientId(conversation.id, alice.username, 'c-1_A'));
    assert.ok(ttl > 24 * 3600 * 1000 && ttl <= CLIENT_ID_TTL_MS, `ttl ${ttl}`);
  });

  test('concurrent repeats store one message: one 201, the others 200 with it', async () => {
    const [alice] = (await registerMany(1)) as [RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, []);
    const answers = await Promise.all(Array.from({ length: 12 }, () => post(alice.token, conversation.id, { text: 'race', clientId: 'racer' })));
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(answers.map((answer) => (answer.body as MessageBody).id));
    assert.equal(ids.size, 1);
    assert.equal(await app.redis.zcard(app.keys.messages(conversation.id)), 1);
  });

  test('a malformed clientId is 400 and stores nothing', async () => {
    const [alice] = (await registerMany(1)) as [RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, []);
    const before = await storeSnapshot(app);
    for (const clientId of ['', 'a'.repeat(65), 'has space', 'slash/no', 7, null, 'ü']) {
      assertErrorShape(await post(alice.token, conversation.id, { text: 'x', clientId }), 400, 'invalid_request');
    }
    assert.deepEqual(await storeSnapshot(app), before);
  });
});
