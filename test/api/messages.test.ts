import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { DELIVERY_QUEUE, DRAIN_JOB, deliveryPartition, type DrainJob } from '@chat/contracts';
import { keysOf } from '../support/api-app.js';
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

let deliveries: Queue<DrainJob>;

const app = sharedApiInProcess(
  {},
  {
    start: (started) => {
      // The queue the api enqueues to, read through the test's own connection (no worker runs here).
      deliveries = new Queue<DrainJob>(DELIVERY_QUEUE, { connection: started.redis, prefix: started.keys.queuePrefix(0) });
    },
    stop: async () => {
      await deliveries?.close();
    },
  },
);

interface Page {
  items: MessageBody[];
  nextAfter: number | null;
}

interface PageBefore {
  items: MessageBody[];
  nextBefore: number | null;
}

async function listMessages(token: string, id: string, query = '') {
  return apiRequest(app.url, 'GET', `/api/conversations/${id}/messages${query}`, { token });
}

/** A 200 page of history with exactly the fields of its kind: `nextAfter`, or `nextBefore` when read backwards. */
async function readPage<P>(token: string, id: string, query: string, cursor: 'nextAfter' | 'nextBefore'): Promise<P> {
  const response = await listMessages(token, id, query);
  assert.equal(response.status, 200, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(response.body as object).sort(), ['items', cursor]);
  return response.body as P;
}

const page = (token: string, id: string, query = '') => readPage<Page>(token, id, query, 'nextAfter');
const pageBefore = (token: string, id: string, query: string) => readPage<PageBefore>(token, id, query, 'nextBefore');

async function memberPair(): Promise<{ alice: RegisteredUser; bob: RegisteredUser; conversation: ConversationBody }> {
  const [alice, bob] = await Promise.all([registerUser(app.url), registerUser(app.url)]);
  const conversation = await createConversation(app.url, alice.token, [bob.username], 'chat');
  return { alice, bob, conversation };
}

/** An outbox entry's `<conversationId> <seq> <messageId>`, without the message it carries. */
const entryHeader = (entry: string) => entry.split(' ', 3).join(' ');

describe('POST /api/conversations/:id/messages', () => {
  test('201 Message with seq 1, 2, 3 and the documented shape', async () => {
    const { alice, bob, conversation } = await memberPair();
    const posted: MessageBody[] = [];
    for (const [author, text] of [
      [alice, 'hello'],
      [bob, 'hi alice'],
      [alice, 'how are you? ✓ "quoted" \\ back\nslash'],
    ] as const) {
      const before = Date.now();
      const response = await apiRequest(app.url, 'POST', `/api/conversations/${conversation.id}/messages`, {
        token: author.token,
        body: { text },
      });
      assert.equal(response.status, 201, response.text);
      const message = response.body as MessageBody;
      assert.deepEqual(Object.keys(message).sort(), ['author', 'conversationId', 'createdAt', 'id', 'rev', 'seq', 'text']);
      assert.match(message.id, /^[A-Za-z0-9_-]{1,64}$/);
      assert.equal(message.conversationId, conversation.id);
      assert.equal(message.author, author.username);
      assert.equal(message.text, text);
      assert.match(message.createdAt, ISO_UTC);
      assert.ok(Date.parse(message.createdAt) >= before - 1000);
      posted.push(message);
    }
    assert.deepEqual(posted.map((m) => m.seq), [1, 2, 3]);
    assert.equal(new Set(posted.map((m) => m.id)).size, 3, 'ids are unique');

    // History gives back exactly what the posts answered.
    assert.deepEqual(await page(bob.token, conversation.id), { items: posted, nextAfter: null });
  });

  test('text of 1 and 4000 characters is accepted; empty, 4001, missing or not a string is 400', async () => {
    const { alice, conversation } = await memberPair();
    assert.equal((await postMessage(app.url, alice.token, conversation.id, 'x')).seq, 1);
    assert.equal((await postMessage(app.url, alice.token, conversation.id, 'y'.repeat(4000))).seq, 2);
    for (const body of [{ text: '' }, { text: 'z'.repeat(4001) }, {}, { text: 42 }, { text: null }, { text: 'ok', seq: 99 }, { text: 'ok', author: 'mallory' }]) {
      const response = await apiRequest(app.url, 'POST', `/api/conversations/${conversation.id}/messages`, { token: alice.token, body });
      assertErrorShape(response, 400, 'invalid_request');
    }
    const stored = await page(alice.token, conversation.id);
    assert.deepEqual(stored.items.map((m) => m.seq), [1, 2], 'rejected posts took no seq');
    assert.equal(await postMessage(app.url, alice.token, conversation.id, 'next').then((m) => m.seq), 3);
  });

  test('a non-member gets 404, nothing is stored, enqueued or put in the outbox', async () => {
    const { alice, conversation } = await memberPair();
    const mallory = await registerUser(app.url);
    await postMessage(app.url, alice.token, conversation.id, 'first');
    const outboxKey = app.keys.outbox(deliveryPartition(conversation.id));
    const outboxBefore = await app.redis.zcard(outboxKey);
    const jobsBefore = await deliveries.count();

    const response = await apiRequest(app.url, 'POST', `/api/conversations/${conversation.id}/messages`, {
      token: mallory.token,
      body: { text: 'intrusion' },
    });
    assertErrorShape(response, 404, 'not_found');
    const history = await page(alice.token, conversation.id);
    assert.deepEqual(history.items.map((m) => m.text), ['first']);
    assert.equal(await app.redis.hget(app.keys.conversation(conversation.id), 'seq'), '1', 'no seq taken');
    assert.equal(await app.redis.zcard(outboxKey), outboxBefore);
    assert.equal(await deliveries.count(), jobsBefore);
  });

  test('an unknown conversation is 404 and creates no key', async () => {
    const alice = await registerUser(app.url);
    const id = 'BBBBBBBBBBBBBBBBBBBBBBBB';
    const response = await apiRequest(app.url, 'POST', `/api/conversations/${id}/messages`, { token: alice.token, body: { text: 'hello?' } });
    assertErrorShape(response, 404, 'not_found');
    assert.equal(await app.redis.exists(app.keys.conversation(id), app.keys.messages(id)), 0);
  });

  test('a member removed from the conversation can no longer post or read', async () => {
    const { alice, bob, conversation } = await memberPair();
    const removed = await apiRequest(app.url, 'PATCH', `/api/conversations/${conversation.id}`, { token: alice.token, body: { users: [] } });
    assert.equal(removed.status, 200, removed.text);
    assertErrorShape(
      await apiRequest(app.url, 'POST', `/api/conversations/${conversation.id}/messages`, { token: bob.token, body: { text: 'still here?' } }),
      404,
      'not_found',
    );
    assertErrorShape(await listMessages(bob.token, conversation.id), 404, 'not_found');
  });

  test('a message that wakes its partition enqueues one drain job; the next ones ride on it until it runs', async () => {
    const { alice, bob, conversation } = await memberPair();
    const partition = deliveryPartition(conversation.id);
    // No worker runs here: clear a flag left by an earlier test, as a drain would.
    await app.redis.del(app.keys.wake(partition));
    const jobsBefore = await deliveries.count();
    const posted = [await postMessage(app.url, alice.token, conversation.id, 'one')];
    assert.equal(await deliveries.count(), jobsBefore + 1, 'the first message enqueues a drain');
    const [job] = (await deliveries.getJobs(['waiting'], 0, -1)).filter((j) => j.timestamp >= Date.parse(posted[0]!.createdAt));
    assert.equal(job?.name, DRAIN_JOB);
    assert.deepEqual(job?.data, { partition });

    posted.push(await postMessage(app.url, bob.token, conversation.id, 'two'));
    posted.push(await postMessage(app.url, alice.token, conversation.id, 'three'));
    assert.equal(await deliveries.count(), jobsBefore + 1, 'the pending drain carries them');
    // Once a drain has run (it clears the flag), the next message enqueues a new one.
    await app.redis.del(app.keys.wake(partition));
    posted.push(await postMessage(app.url, bob.token, conversation.id, 'four'));
    assert.equal(await deliveries.count(), jobsBefore + 2);

    // Each message is in its partition's outbox until a worker publishes it (none runs here).
    const outbox = (await app.redis.zrange(app.keys.outbox(partition), 0, -1)).map(entryHeader);
    for (const message of posted) assert.ok(outbox.includes(`${conversation.id} ${message.seq} ${message.id}`), 'outbox entry');
  });

  test('50 concurrent posts to one conversation get seq 1..50, no gaps, no repeats, one drain job, 50 outbox entries', async () => {
    const { alice, bob, conversation } = await memberPair();
    const partition = deliveryPartition(conversation.id);
    await app.redis.del(app.keys.wake(partition));
    const jobsBefore = await deliveries.count();
    const posted = await Promise.all(
      Array.from({ length: 50 }, (_, i) => postMessage(app.url, i % 2 === 0 ? alice.token : bob.token, conversation.id, `m${i}`)),
    );
    assert.deepEqual(
      posted.map((m) => m.seq).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.equal(new Set(posted.map((m) => m.id)).size, 50);

    const history = await page(alice.token, conversation.id, '?limit=500');
    assert.deepEqual(history.items.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => i + 1), 'history in seq order');
    assert.deepEqual(
      [...history.items].sort((a, b) => a.id.localeCompare(b.id)),
      [...posted].sort((a, b) => a.id.localeCompare(b.id)),
      'history holds exactly the accepted messages',
    );
    assert.equal(await deliveries.count(), jobsBefore + 1, 'only the first append woke the partition');
    const outbox = new Set((await app.redis.zrange(app.keys.outbox(partition), 0, -1)).map(entryHeader));
    for (const message of posted) assert.ok(outbox.has(`${conversation.id} ${message.seq} ${message.id}`), `outbox entry of seq ${message.seq}`);
  });
});

describe('GET /api/conversations/:id/messages', () => {
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let conversation: ConversationBody;
  let posted: MessageBody[];

  before(async () => {
    ({ alice, bob, conversation } = await memberPair());
    posted = [];
    for (let i = 1; i <= 7; i += 1) posted.push(await postMessage(app.url, i % 2 ? alice.token : bob.token, conversation.id, `message ${i}`));
  });

  test('7 messages, limit 3: pages 1-3, 4-6, 7 and nextAfter null at the end', async () => {
    const first = await page(alice.token, conversation.id, '?limit=3');
    assert.deepEqual(first, { items: posted.slice(0, 3), nextAfter: 3 });
    const second = await page(alice.token, conversation.id, `?after=${first.nextAfter}&limit=3`);
    assert.deepEqual(second, { items: posted.slice(3, 6), nextAfter: 6 });
    const third = await page(alice.token, conversation.id, `?limit=3&after=${second.nextAfter}`);
    assert.deepEqual(third, { items: posted.slice(6), nextAfter: null });
  });

  test('a page that ends exactly at the last message says nextAfter null', async () => {
    assert.deepEqual(await page(bob.token, conversation.id, '?after=4&limit=3'), { items: posted.slice(4), nextAfter: null });
    assert.deepEqual(await page(bob.token, conversation.id, '?limit=7'), { items: posted, nextAfter: null });
  });

  test('defaults: no query gives everything from seq 1 (limit 50)', async () => {
    assert.deepEqual(await page(bob.token, conversation.id), { items: posted, nextAfter: null });
  });

  test('after past the end, or after=0, limit=1 and limit=500', async () => {
    assert.deepEqual(await page(alice.token, conversation.id, '?after=7'), { items: [], nextAfter: null });
    assert.deepEqual(await page(alice.token, conversation.id, '?after=1000'), { items: [], nextAfter: null });
    assert.deepEqual(await page(alice.token, conversation.id, '?after=0&limit=1'), { items: posted.slice(0, 1), nextAfter: 1 });
    assert.deepEqual(await page(alice.token, conversation.id, '?limit=500'), { items: posted, nextAfter: null });
  });

  test('with 60 messages and no limit, pages hold 50', async () => {
    const { alice: owner, conversation: big } = await memberPair();
    await Promise.all(Array.from({ length: 60 }, (_, i) => postMessage(app.url, owner.token, big.id, `n${i}`)));
    const first = await page(owner.token, big.id);
    assert.equal(first.items.length, 50);
    assert.equal(first.nextAfter, 50);
    const rest = await page(owner.token, big.id, `?after=${first.nextAfter}`);
    assert.deepEqual(rest.items.map((m) => m.seq), Array.from({ length: 10 }, (_, i) => 51 + i));
    assert.equal(rest.nextAfter, null);
  });

  for (const query of ['?limit=0', '?limit=501', '?limit=abc', '?limit=-1', '?limit=1.5', '?limit=', '?after=-1', '?after=abc', '?after=1e3', '?limit=2&limit=3', '?after[]=1', '?sort=desc']) {
    test(`${query} is 400 invalid_request`, async () => {
      assertErrorShape(await listMessages(alice.token, conversation.id, query), 400, 'invalid_request');
    });
  }

  test('a non-member gets 404 and none of the messages', async () => {
    const mallory = await registerUser(app.url);
    const response = await listMessages(mallory.token, conversation.id);
    assertErrorShape(response, 404, 'not_found');
    assert.ok(!response.text.includes('message 1'));
  });

  test('an unknown conversation is 404', async () => {
    assertErrorShape(await listMessages(alice.token, 'CCCCCCCCCCCCCCCC'), 404, 'not_found');
  });

  describe('?before= (newest first)', () => {
    test('7 messages, limit 3, from above the last seq: pages 5-7, 2-4, 1, each ascending, nextBefore null at the oldest', async () => {
      const newest = await pageBefore(alice.token, conversation.id, '?before=8&limit=3');
      assert.deepEqual(newest, { items: posted.slice(4), nextBefore: 5 });
      const older = await pageBefore(alice.token, conversation.id, `?limit=3&before=${newest.nextBefore}`);
      assert.deepEqual(older, { items: posted.slice(1, 4), nextBefore: 2 });
      const oldest = await pageBefore(bob.token, conversation.id, `?before=${older.nextBefore}&limit=3`);
      assert.deepEqual(oldest, { items: posted.slice(0, 1), nextBefore: null });
    });

    test('a before above the last seq reads the newest page; the largest before, default limit, gives everything', async () => {
      assert.deepEqual(await pageBefore(alice.token, conversation.id, '?before=1000&limit=2'), { items: posted.slice(5), nextBefore: 6 });
      assert.deepEqual(await pageBefore(alice.token, conversation.id, '?before=999999999999999'), { items: posted, nextBefore: null });
    });

    test('a page that ends exactly at seq 1 says nextBefore null; before=1 is an empty page', async () => {
      assert.deepEqual(await pageBefore(bob.token, conversation.id, '?before=4&limit=3'), { items: posted.slice(0, 3), nextBefore: null });
      assert.deepEqual(await pageBefore(bob.token, conversation.id, '?before=1'), { items: [], nextBefore: null });
      assert.deepEqual(await pageBefore(bob.token, conversation.id, '?before=2&limit=500'), { items: posted.slice(0, 1), nextBefore: null });
    });

    test('an empty conversation gives an empty page', async () => {
      const { alice: owner, conversation: empty } = await memberPair();
      assert.deepEqual(await pageBefore(owner.token, empty.id, '?before=1000'), { items: [], nextBefore: null });
    });

    test('with 60 messages and no limit, the newest page holds 50, the one before it 10', async () => {
      const { alice: owner, conversation: big } = await memberPair();
      await Promise.all(Array.from({ length: 60 }, (_, i) => postMessage(app.url, owner.token, big.id, `n${i}`)));
      const newest = await pageBefore(owner.token, big.id, '?before=61');
      assert.deepEqual(newest.items.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => 11 + i));
      assert.equal(newest.nextBefore, 11);
      const rest = await pageBefore(owner.token, big.id, `?before=${newest.nextBefore}`);
      assert.deepEqual(rest.items.map((m) => m.seq), Array.from({ length: 10 }, (_, i) => 1 + i));
      assert.equal(rest.nextBefore, null);
    });

    for (const query of [
      '?before=0',
      '?before=-1',
      '?before=abc',
      '?before=',
      '?before=1.5',
      '?before=1e3',
      '?before=1234567890123456',
      '?before=3&after=1',
      '?after=0&before=5',
      '?before=1&before=2',
      '?before=5&limit=0',
      '?before=5&limit=501',
      '?before[]=1',
    ]) {
      test(`${query} is 400 invalid_request and writes nothing`, async () => {
        const keysBefore = await keysOf(app);
        assertErrorShape(await listMessages(alice.token, conversation.id, query), 400, 'invalid_request');
        assert.deepEqual(await keysOf(app), keysBefore);
      });
    }

    test('a non-member gets 404 and none of the messages; an unknown conversation is the same 404', async () => {
      const mallory = await registerUser(app.url);
      const foreign = await listMessages(mallory.token, conversation.id, '?before=100');
      assertErrorShape(foreign, 404, 'not_found');
      assert.ok(!foreign.text.includes('message 1'));
      const unknown = await listMessages(alice.token, 'CCCCCCCCCCCCCCCC', '?before=100');
      assertErrorShape(unknown, 404, 'not_found');
      assert.deepEqual(unknown.body, foreign.body);
    });

    test('a member removed from the conversation gets 404', async () => {
      const { alice: owner, bob: removed, conversation: shared } = await memberPair();
      await postMessage(app.url, owner.token, shared.id, 'before the removal');
      const patched = await apiRequest(app.url, 'PATCH', `/api/conversations/${shared.id}`, { token: owner.token, body: { users: [] } });
      assert.equal(patched.status, 200, patched.text);
      assertErrorShape(await listMessages(removed.token, shared.id, '?before=100'), 404, 'not_found');
    });
  });
});

describe('GET /api/conversations/:id/messages?before= with HISTORY_LIMIT', () => {
  const trimmed = sharedApiInProcess({ env: { HISTORY_LIMIT: '5' } });

  test('older pages end where the kept history ends: nextBefore null once the oldest kept message is reached', async () => {
    const owner = await registerUser(trimmed.url);
    const conversation = await createConversation(trimmed.url, owner.token, [], 'trimmed');
    for (let i = 1; i <= 8; i += 1) await postMessage(trimmed.url, owner.token, conversation.id, `kept? ${i}`);
    const read = async (query: string) => {
      const response = await apiRequest(trimmed.url, 'GET', `/api/conversations/${conversation.id}/messages${query}`, { token: owner.token });
      assert.equal(response.status, 200, response.text);
      const body = response.body as PageBefore;
      return { seqs: body.items.map((m) => m.seq), nextBefore: body.nextBefore };
    };
    assert.deepEqual(await read('?before=100&limit=3'), { seqs: [6, 7, 8], nextBefore: 6 });
    assert.deepEqual(await read('?before=6&limit=3'), { seqs: [4, 5], nextBefore: null });
    assert.deepEqual(await read('?before=4&limit=3'), { seqs: [], nextBefore: null });
  });
});
