import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { connectRedis } from '@chat/store';
import { keysOf, storeSnapshot } from '../support/api-app.js';
import {
  ISO_UTC,
  apiRequest,
  assertErrorShape,
  createConversation,
  postMessage,
  randomUsername,
  registerUser,
  type ApiRequestOptions,
  type ApiResponse,
  type ConversationBody,
  type RegisteredUser,
} from '../support/api-client.js';
import { sharedApiInProcess } from '../support/shared-fixtures.js';

const app = sharedApiInProcess();

async function getConversation(token: string, id: string) {
  return apiRequest(app.url, 'GET', `/api/conversations/${id}`, { token });
}

async function listConversations(token: string): Promise<ConversationBody[]> {
  const response = await apiRequest(app.url, 'GET', '/api/conversations', { token });
  assert.equal(response.status, 200, response.text);
  const body = response.body as { items: ConversationBody[] };
  assert.deepEqual(Object.keys(body), ['items']);
  return body.items;
}

async function registerMany(count: number): Promise<RegisteredUser[]> {
  return Promise.all(Array.from({ length: count }, () => registerUser(app.url)));
}

describe('POST /api/conversations', () => {
  test('201 Conversation: creator is a member, users deduplicated and sorted', async () => {
    const [alice, bob, carol] = (await registerMany(3)) as [RegisteredUser, RegisteredUser, RegisteredUser];
    const before = Date.now();
    const response = await apiRequest(app.url, 'POST', '/api/conversations', {
      token: alice.token,
      body: { title: 'Trip', users: [carol.username, bob.username, carol.username] },
    });
    assert.equal(response.status, 201, response.text);
    const conversation = response.body as ConversationBody;
    assert.deepEqual(Object.keys(conversation).sort(), [
      'createdAt',
      'createdBy',
      'id',
      'lastMessageAt',
      'lastSeq',
      'readSeq',
      'title',
      'unread',
      'users',
    ]);
    assert.deepEqual([conversation.lastSeq, conversation.lastMessageAt, conversation.readSeq, conversation.unread], [0, null, 0, 0]);
    assert.match(conversation.id, /^[A-Za-z0-9_-]{1,64}$/, 'URL-safe id of at most 64 characters');
    assert.equal(conversation.title, 'Trip');
    assert.equal(conversation.createdBy, alice.username);
    assert.deepEqual(conversation.users, [alice.username, bob.username, carol.username].sort());
    assert.match(conversation.createdAt, ISO_UTC);
    assert.ok(Date.parse(conversation.createdAt) >= before - 1000);

    // What GET answers is what POST answered.
    const fetched = await getConversation(bob.token, conversation.id);
    assert.equal(fetched.status, 200, fetched.text);
    assert.deepEqual(fetched.body, conversation);
  });

  test('listing the creator explicitly does not duplicate it; an empty list makes a one-member conversation', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const withSelf = await createConversation(app.url, alice.token, [alice.username, bob.username, alice.username]);
    assert.deepEqual(withSelf.users, [alice.username, bob.username].sort());
    const alone = await createConversation(app.url, alice.token, []);
    assert.deepEqual(alone.users, [alice.username]);
  });

  test('the title is trimmed; blank, 201 characters or not a string is 400', async () => {
    const alice = await registerUser(app.url);
    const trimmed = await createConversation(app.url, alice.token, [], '  spaced  ');
    assert.equal(trimmed.title, 'spaced');
    const longest = await createConversation(app.url, alice.token, [], 't'.repeat(200));
    assert.equal(longest.title.length, 200);
    for (const title of ['', '   ', 't'.repeat(201), 42, null]) {
      const response = await apiRequest(app.url, 'POST', '/api/conversations', { token: alice.token, body: { title, users: [] } });
      assertErrorShape(response, 400, 'invalid_request');
    }
  });

  test('an unknown user is 400 and nothing is created', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const keysBefore = await keysOf(app);
    const ghost = randomUsername('ghost');
    const response = await apiRequest(app.url, 'POST', '/api/conversations', {
      token: alice.token,
      body: { title: 'nope', users: [bob.username, ghost] },
    });
    assertErrorShape(response, 400, 'invalid_request');
    assert.deepEqual(await listConversations(alice.token), []);
    assert.deepEqual(await listConversations(bob.token), []);
    assert.deepEqual(await keysOf(app), keysBefore, 'no Redis key written');
  });

  for (const [label, body] of [
    ['no title', { users: [] }],
    ['no users', { title: 'x' }],
    ['users not an array', { title: 'x', users: 'bob' }],
    ['a bad username in users', { title: 'x', users: ['Bob'] }],
    ['a username with a colon', { title: 'x', users: ['a:b'] }],
    ['an unknown field', { title: 'x', users: [], public: true }],
    ['a client-chosen id', { id: 'mine', title: 'x', users: [] }],
    ['1001 users', { title: 'x', users: Array.from({ length: 1001 }, (_, i) => `user${i}`) }],
  ] as const) {
    test(`a body with ${label} is 400 invalid_request`, async () => {
      const alice = await registerUser(app.url);
      const response = await apiRequest(app.url, 'POST', '/api/conversations', { token: alice.token, body });
      assertErrorShape(response, 400, 'invalid_request');
      assert.deepEqual(await listConversations(alice.token), []);
    });
  }
});

describe('GET /api/conversations', () => {
  test("only the caller's conversations, oldest createdAt first", async () => {
    const [alice, bob, carol] = (await registerMany(3)) as [RegisteredUser, RegisteredUser, RegisteredUser];
    const created: ConversationBody[] = [];
    for (let i = 0; i < 5; i += 1) {
      created.push(await createConversation(app.url, alice.token, i % 2 === 0 ? [bob.username] : [], `c${i}`));
    }
    await createConversation(app.url, carol.token, [bob.username], 'not alice');

    const aliceList = await listConversations(alice.token);
    assert.deepEqual(
      aliceList.map((c) => c.id).sort(),
      created.map((c) => c.id).sort(),
      'exactly her conversations',
    );
    for (let i = 1; i < aliceList.length; i += 1) {
      assert.ok(
        (aliceList[i - 1]?.createdAt ?? '') <= (aliceList[i]?.createdAt ?? ''),
        `oldest first: ${aliceList.map((c) => c.createdAt).join(', ')}`,
      );
    }
    // Conversations created in distinct milliseconds keep their creation order.
    const distinct = created.filter((c, i, all) => all.findIndex((o) => o.createdAt === c.createdAt) === i);
    const listedOrder = aliceList.filter((c) => distinct.some((d) => d.id === c.id)).map((c) => c.id);
    assert.deepEqual(listedOrder, distinct.map((c) => c.id));
    for (const item of aliceList) assert.deepEqual(item, created.find((c) => c.id === item.id));

    const bobList = await listConversations(bob.token);
    assert.deepEqual(bobList.map((c) => c.title).sort(), ['c0', 'c2', 'c4', 'not alice']);
    assert.deepEqual(await listConversations(carol.token).then((items) => items.map((c) => c.title)), ['not alice']);
  });

  test('a user with no conversations gets {items: []}', async () => {
    const loner = await registerUser(app.url);
    assert.deepEqual(await listConversations(loner.token), []);
  });

  test('a user added later sees the conversation in createdAt order, not in order of joining', async () => {
    const [alice, dave] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const older = await createConversation(app.url, alice.token, [], 'older');
    const own = await createConversation(app.url, dave.token, [], 'own');
    assert.ok(older.createdAt <= own.createdAt);
    const patched = await apiRequest(app.url, 'PATCH', `/api/conversations/${older.id}`, {
      token: alice.token,
      body: { users: [dave.username] },
    });
    assert.equal(patched.status, 200, patched.text);
    const titles = (await listConversations(dave.token)).map((c) => c.title);
    if (older.createdAt < own.createdAt) assert.deepEqual(titles, ['older', 'own']);
    else assert.deepEqual([...titles].sort(), ['older', 'own']);
  });
});

describe('GET /api/conversations/:id', () => {
  let alice: RegisteredUser;
  let mallory: RegisteredUser;
  let conversation: ConversationBody;

  before(async () => {
    [alice, mallory] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    conversation = await createConversation(app.url, alice.token, [], 'secret plans');
  });

  test('a member gets 200 Conversation', async () => {
    const response = await getConversation(alice.token, conversation.id);
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, conversation);
  });

  test('a non-member gets 404 not_found and none of the data', async () => {
    const response = await getConversation(mallory.token, conversation.id);
    assertErrorShape(response, 404, 'not_found');
    assert.ok(!response.text.includes('secret plans'));
    assert.ok(!response.text.includes(alice.username));
  });

  test('an unknown id is the same 404 as a conversation of others', async () => {
    const unknown = await getConversation(alice.token, 'AAAAAAAAAAAAAAAAAAAAAAAA');
    assertErrorShape(unknown, 404, 'not_found');
    const foreign = await getConversation(mallory.token, conversation.id);
    assert.deepEqual(unknown.body, foreign.body, 'a non-member cannot tell "exists" from "does not exist"');
  });

  for (const [label, id] of [
    ['a colon', 'a:b'],
    ['a star', 'x*'],
    ['braces', 'a{b}'],
    ['an encoded space', 'a%20b'],
    ['an encoded slash', 'a%2Fb'],
    ['70 characters', 'a'.repeat(70)],
    ['a dot', 'a.b'],
  ] as const) {
    test(`an id with ${label} is a 400 or 404 and touches no key`, async () => {
      const keysBefore = await keysOf(app);
      for (const [method, path, body] of [
        ['GET', `/api/conversations/${id}`, undefined],
        ['PATCH', `/api/conversations/${id}`, { title: 'x' }],
        ['GET', `/api/conversations/${id}/messages`, undefined],
        ['POST', `/api/conversations/${id}/messages`, { text: 'x' }],
      ] as const) {
        const response = await apiRequest(app.url, method, path, { token: alice.token, ...(body ? { body } : {}) });
        assert.ok(response.status === 400 || response.status === 404, `${method} ${path}: ${response.status} ${response.text}`);
        assertErrorShape(response, response.status, response.status === 400 ? 'invalid_request' : 'not_found');
      }
      assert.deepEqual(await keysOf(app), keysBefore, 'no Redis key written');
    });
  }

  test('a malformed percent-encoding in the id is a 400 or 404, not a 500', async () => {
    for (const id of ['%', '%E0%A4%A', '%zz']) {
      const response = await getConversation(alice.token, id);
      assert.ok(response.status === 400 || response.status === 404, `${id}: ${response.status} ${response.text}`);
      assertErrorShape(response, response.status, response.status === 400 ? 'invalid_request' : 'not_found');
    }
  });
});

describe('PATCH /api/conversations/:id', () => {
  async function patch(token: string, id: string, body: unknown) {
    return apiRequest(app.url, 'PATCH', `/api/conversations/${id}`, { token, body });
  }

  test('a member changes the title; everyone sees it', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username], 'old title');
    const response = await patch(bob.token, conversation.id, { title: 'new title' });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { ...conversation, title: 'new title' }, 'only the title changed');
    assert.deepEqual((await getConversation(alice.token, conversation.id)).body, response.body);
  });

  test('users: adds and removes members, updates their lists; the caller stays even if omitted', async () => {
    const [alice, bob, carol, dave] = (await registerMany(4)) as [RegisteredUser, RegisteredUser, RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username, carol.username], 'members');

    const response = await patch(alice.token, conversation.id, { users: [dave.username, bob.username] });
    assert.equal(response.status, 200, response.text);
    const updated = response.body as ConversationBody;
    assert.deepEqual(updated.users, [alice.username, bob.username, dave.username].sort());
    assert.equal(updated.title, 'members');
    assert.equal(updated.createdBy, alice.username);
    assert.equal(updated.createdAt, conversation.createdAt);

    assertErrorShape(await getConversation(carol.token, conversation.id), 404, 'not_found');
    assert.deepEqual(await listConversations(carol.token), [], 'removed from her list');
    assert.deepEqual((await listConversations(dave.token)).map((c) => c.id), [conversation.id], 'added to his list');
    assert.equal((await getConversation(dave.token, conversation.id)).status, 200);

    // An empty list leaves only the caller.
    const alone = await patch(bob.token, conversation.id, { users: [] });
    assert.equal(alone.status, 200, alone.text);
    assert.deepEqual((alone.body as ConversationBody).users, [bob.username]);
    assertErrorShape(await getConversation(alice.token, conversation.id), 404, 'not_found');
    assert.deepEqual(await listConversations(alice.token), []);
  });

  test('title and users together', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [], 'a');
    const response = await patch(alice.token, conversation.id, { title: 'b', users: [bob.username, bob.username] });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { ...conversation, title: 'b', users: [alice.username, bob.username].sort() });
  });

  test('a non-member gets 404 and changes nothing', async () => {
    const [alice, bob, mallory] = (await registerMany(3)) as [RegisteredUser, RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username], 'guarded');
    for (const body of [{ title: 'pwned' }, { users: [mallory.username] }, { title: 'pwned', users: [] }]) {
      assertErrorShape(await patch(mallory.token, conversation.id, body), 404, 'not_found');
    }
    assert.deepEqual((await getConversation(alice.token, conversation.id)).body, conversation);
    assert.deepEqual(await listConversations(mallory.token), []);
  });

  test('a non-member learns nothing about which users exist', async () => {
    const [alice, mallory] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [], 'x');
    const withGhost = await patch(mallory.token, conversation.id, { users: [randomUsername('ghost')] });
    const withReal = await patch(mallory.token, conversation.id, { users: [alice.username] });
    assertErrorShape(withGhost, 404, 'not_found');
    assert.deepEqual(withGhost.body, withReal.body);
  });

  test('an unknown user is 400 and changes nothing', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username], 'stable');
    const response = await patch(alice.token, conversation.id, { title: 'changed', users: [randomUsername('ghost')] });
    assertErrorShape(response, 400, 'invalid_request');
    assert.deepEqual((await getConversation(alice.token, conversation.id)).body, conversation, 'neither title nor users changed');
    assert.equal((await getConversation(bob.token, conversation.id)).status, 200, 'bob is still a member');
  });

  test('an unknown conversation is 404', async () => {
    const alice = await registerUser(app.url);
    assertErrorShape(await patch(alice.token, 'AAAAAAAAAAAAAAAA', { title: 'x' }), 404, 'not_found');
    assert.equal(await app.redis.exists(app.keys.conversation('AAAAAAAAAAAAAAAA')), 0, 'PATCH did not create it');
  });

  for (const [label, body] of [
    ['an empty body', {}],
    ['a blank title', { title: '  ' }],
    ['a title that is not a string', { title: 5 }],
    ['users that is not an array', { users: 'bob' }],
    ['an unknown field', { title: 'x', createdBy: 'mallory' }],
    ['an id', { id: 'other' }],
  ] as const) {
    test(`${label} is 400 and changes nothing`, async () => {
      const alice = await registerUser(app.url);
      const conversation = await createConversation(app.url, alice.token, [], 'unchanged');
      assertErrorShape(await patch(alice.token, conversation.id, body), 400, 'invalid_request');
      assert.deepEqual((await getConversation(alice.token, conversation.id)).body, conversation);
    });
  }
});

describe('POST /api/conversations/:id/leave', () => {
  function leave(token: string | undefined, id: string, options: Omit<ApiRequestOptions, 'token'> = {}) {
    return apiRequest(app.url, 'POST', `/api/conversations/${id}/leave`, { ...(token !== undefined ? { token } : {}), ...options });
  }

  /** The notices published on a user's channel while `during` runs. */
  async function noticesDuring(username: string, during: () => Promise<unknown>): Promise<string[]> {
    const subscriber = connectRedis({ url: app.redisUrl, name: 'test:notices', role: 'subscriber' });
    const notices: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => notices.push(message));
    try {
      await subscriber.subscribe(app.keys.userChannel(username));
      await during();
      // A PING answered after the leave's PUBLISH: every notice published before it has arrived.
      await subscriber.ping();
      return notices;
    } finally {
      subscriber.disconnect();
    }
  }

  test('204 with no body; the leaver gets 404 from then on, leaves every list, and is told on their channel', async () => {
    const [alice, bob, carol] = (await registerMany(3)) as [RegisteredUser, RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username, carol.username], 'team');
    await postMessage(app.url, alice.token, conversation.id, 'before bob left');

    let response: ApiResponse | undefined;
    const notices = await noticesDuring(bob.username, async () => {
      response = await leave(bob.token, conversation.id);
    });
    assert.equal(response?.status, 204, response?.text);
    assert.equal(response?.text, '');
    assert.deepEqual(notices, [`-${conversation.id}`], 'the membership notice gateways stop following on');

    for (const [method, path, body] of [
      ['GET', `/api/conversations/${conversation.id}`, undefined],
      ['PATCH', `/api/conversations/${conversation.id}`, { title: 'back?' }],
      ['GET', `/api/conversations/${conversation.id}/messages`, undefined],
      ['GET', `/api/conversations/${conversation.id}/messages?before=10`, undefined],
      ['POST', `/api/conversations/${conversation.id}/messages`, { text: 'still here?' }],
      ['POST', `/api/conversations/${conversation.id}/leave`, undefined],
    ] as const) {
      assertErrorShape(await apiRequest(app.url, method, path, { token: bob.token, ...(body ? { body } : {}) }), 404, 'not_found');
    }
    assert.deepEqual(await listConversations(bob.token), []);
    assert.deepEqual(await app.redis.zrange(app.keys.userConversations(bob.username), 0, -1), []);

    // The others carry on, without him.
    const remaining = await getConversation(carol.token, conversation.id);
    const { lastSeq, lastMessageAt, readSeq, unread } = remaining.body as ConversationBody;
    assert.deepEqual([lastSeq, readSeq, unread], [1, 0, 1]);
    assert.deepEqual(remaining.body, { ...conversation, users: [alice.username, carol.username].sort(), lastSeq, lastMessageAt, readSeq, unread });
    assert.equal((await postMessage(app.url, carol.token, conversation.id, 'after bob left')).seq, 2);
  });

  test('the creator may leave: createdBy stays, PATCH by the others still works', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username], 'founded by alice');
    assert.equal((await leave(alice.token, conversation.id)).status, 204);
    const seen = await getConversation(bob.token, conversation.id);
    assert.deepEqual(seen.body, { ...conversation, users: [bob.username] });
    // A remaining member can bring the creator back; she then reads the whole history again.
    const patched = await apiRequest(app.url, 'PATCH', `/api/conversations/${conversation.id}`, { token: bob.token, body: { users: [alice.username] } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal((await getConversation(alice.token, conversation.id)).status, 200);
  });

  test('the last member to leave deletes the conversation and its history', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username], 'short-lived');
    for (let i = 1; i <= 3; i += 1) await postMessage(app.url, i % 2 ? alice.token : bob.token, conversation.id, `m${i}`);
    assert.equal((await leave(alice.token, conversation.id)).status, 204);
    assert.equal(await app.redis.exists(app.keys.conversation(conversation.id), app.keys.messages(conversation.id)), 2, 'kept while bob is in it');
    assert.equal((await leave(bob.token, conversation.id)).status, 204);

    assert.equal(
      await app.redis.exists(app.keys.conversation(conversation.id), app.keys.members(conversation.id), app.keys.messages(conversation.id)),
      0,
      'no key of it is left',
    );
    assert.deepEqual((await keysOf(app)).filter((key) => key.includes(conversation.id)), []);
    for (const user of [alice, bob]) {
      assertErrorShape(await getConversation(user.token, conversation.id), 404, 'not_found');
      assertErrorShape(await leave(user.token, conversation.id), 404, 'not_found');
    }
    // Nobody can bring it back by posting or patching.
    assertErrorShape(
      await apiRequest(app.url, 'POST', `/api/conversations/${conversation.id}/messages`, { token: bob.token, body: { text: 'hello?' } }),
      404,
      'not_found',
    );
    assertErrorShape(await apiRequest(app.url, 'PATCH', `/api/conversations/${conversation.id}`, { token: bob.token, body: { users: [alice.username] } }), 404, 'not_found');
    assert.equal(await app.redis.exists(app.keys.conversation(conversation.id)), 0);
  });

  test('a body, when sent, is {} as JSON: {} is 204; text is 415, unknown fields and other JSON 400, too large 413, and nothing changes', async () => {
    const [alice, bob] = (await registerMany(2)) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username], 'bodies');
    const refusals: [number, string, Omit<ApiRequestOptions, 'token'>][] = [
      [415, 'unsupported_media_type', { rawBody: '{}', headers: { 'content-type': 'text/plain' } }],
      [415, 'unsupported_media_type', { rawBody: '{}' }],
      [400, 'invalid_request', { body: { reason: 'bored' } }],
      [400, 'invalid_request', { body: [] }],
      [400, 'invalid_json', { rawBody: '{"reason":', headers: { 'content-type': 'application/json' } }],
      [400, 'invalid_json', { rawBody: 'null', headers: { 'content-type': 'application/json' } }],
      [413, 'payload_too_large', { body: { pad: 'x'.repeat(70 * 1024) } }],
    ];
    const before = await storeSnapshot(app);
    for (const [status, code, options] of refusals) assertErrorShape(await leave(bob.token, conversation.id, options), status, code);
    assert.deepEqual(await storeSnapshot(app), before, 'refused leaves changed nothing');
    assert.equal((await getConversation(bob.token, conversation.id)).status, 200);

    assert.equal((await leave(bob.token, conversation.id, { body: {} })).status, 204);
    assertErrorShape(await getConversation(bob.token, conversation.id), 404, 'not_found');
  });

  test('a non-member, or an unknown conversation, is 404 and changes nothing; no token is 401', async () => {
    const [alice, bob, mallory] = (await registerMany(3)) as [RegisteredUser, RegisteredUser, RegisteredUser];
    const conversation = await createConversation(app.url, alice.token, [bob.username], 'not yours');
    const before = await storeSnapshot(app);
    let foreign: ApiResponse | undefined;
    const notices = await noticesDuring(mallory.username, async () => {
      foreign = await leave(mallory.token, conversation.id);
    });
    assertErrorShape(foreign as ApiResponse, 404, 'not_found');
    assert.deepEqual(notices, [], 'nothing published');
    const unknown = await leave(alice.token, 'AAAAAAAAAAAAAAAA');
    assertErrorShape(unknown, 404, 'not_found');
    assert.deepEqual(unknown.body, foreign?.body, 'a non-member cannot tell "exists" from "does not exist"');
    assertErrorShape(await leave(undefined, conversation.id), 401, 'unauthenticated');
    assertErrorShape(await leave('not.a.jwt', conversation.id), 401, 'unauthenticated');
    assertErrorShape(await leave(alice.token, 'a:b'), 400, 'invalid_request');
    assertErrorShape(await leave(alice.token, 'x'.repeat(65)), 400, 'invalid_request');
    assert.deepEqual(await storeSnapshot(app), before, 'refused leaves changed nothing');
    assert.deepEqual((await getConversation(alice.token, conversation.id)).body, conversation);
  });

  test('GET and other methods on /leave are 404 and leave nobody', async () => {
    const alice = await registerUser(app.url);
    const conversation = await createConversation(app.url, alice.token, [], 'only POST');
    for (const method of ['GET', 'DELETE', 'PATCH', 'PUT'] as const) {
      const body = method === 'PATCH' || method === 'PUT' ? { body: {} } : {};
      assertErrorShape(await apiRequest(app.url, method, `/api/conversations/${conversation.id}/leave`, { token: alice.token, ...body }), 404, 'not_found');
    }
    assert.equal((await getConversation(alice.token, conversation.id)).status, 200);
  });
});
