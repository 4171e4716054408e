import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { deliveryPartition } from '@chat/contracts';
import { connectRedis, createKeys, waitForRedis, type Redis } from '@chat/store';
import { apiRequest, assertErrorShape, createConversation, registerUser, type ApiResponse, type RegisteredUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { connectClient, range, seqsOf, type TestSocket } from '../support/ws-client.js';

/** Small, so the test fills it in a few dozen posts. */
const MAX_BACKLOG = 20;
/** Far more than the bound plus what one sampling interval (100 ms) lets through. */
const POSTS_BOUND = 1000;

/** A series of the api's /metrics: `name`, and when given the one whose labels include `label` (`reason="intake"`). */
async function metric(apiUrl: string, name: string, label = ''): Promise<number> {
  const { text } = await apiRequest(apiUrl, 'GET', '/metrics');
  const line = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm');
  for (const match of text.matchAll(line)) {
    if (match[0].includes(label)) return Number(match[1]);
  }
  throw new Error(`no ${name} ${label} in the api's /metrics`);
}

async function untilMetric(apiUrl: string, name: string, holds: (value: number) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await metric(apiUrl, name);
    if (holds(value)) return;
    if (Date.now() > deadline) throw new Error(`${name} still ${value} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('overload: the api sheds new messages while the delivery backlog is over MAX_DELIVERY_BACKLOG', () => {
  let stack: Stack | undefined;
  let redis: Redis | undefined;
  let bob: TestSocket | undefined;

  before(async () => {
    stack = await startStack({ gateways: 1, env: { MAX_DELIVERY_BACKLOG: String(MAX_BACKLOG) } });
    redis = connectRedis({ url: stack.redis.url, name: 'test:assertions', role: 'queue' });
    await waitForRedis(redis, 10_000);
  });

  after(async () => {
    await bob?.close();
    redis?.disconnect();
    await stack?.stop();
  });

  test('accepts up to the bound, then 503 + Retry-After with nothing stored; accepts again once drained; loses nothing', async () => {
    assert.ok(stack && redis);
    const [alice, member] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]) as [RegisteredUser, RegisteredUser];
    const conversation = await createConversation(stack.apiUrl, alice.token, [member.username], 'overload');
    const outbox = createKeys(stack.prefix).outbox(deliveryPartition(conversation.id));
    bob = await connectClient(stack.wsUrls[0] ?? '', member.token);
    const post = (text: string): Promise<ApiResponse> =>
      apiRequest(stack?.apiUrl ?? '', 'POST', `/api/conversations/${conversation.id}/messages`, { token: alice.token, body: { text } });
    const lastSeq = async () => Number(await redis?.hget(createKeys(stack?.prefix ?? '').conversation(conversation.id), 'seq'));

    // Nothing is published while the worker is stopped: every accepted message stays in the backlog.
    await stack.worker.stop();
    let accepted = 0;
    let refused: ApiResponse | undefined;
    while (refused === undefined && accepted < POSTS_BOUND) {
      const response = await post(`m${accepted + 1}`);
      if (response.status === 201) accepted += 1;
      else refused = response;
    }
    assert.ok(refused, `still accepting after ${accepted} posts with the worker stopped`);
    assertErrorShape(refused, 503, 'unavailable');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.ok(accepted > MAX_BACKLOG, `refused after only ${accepted} posts (bound ${MAX_BACKLOG})`);

    // Refused = nothing written: no seq taken, no outbox entry, no history.
    const backlog = await redis.zcard(outbox);
    assert.equal(backlog, accepted);
    assert.equal(await lastSeq(), accepted);
    assertErrorShape(await post('refused'), 503, 'unavailable');
    assert.equal(await redis.zcard(outbox), accepted);
    assert.equal(await lastSeq(), accepted);
    const history = await apiRequest(stack.apiUrl, 'GET', `/api/conversations/${conversation.id}/messages?limit=100`, { token: member.token });
    assert.equal(history.status, 200, 'reads keep working while posts are shed');

    assert.ok((await metric(stack.apiUrl, 'chat_messages_shed_total', 'reason="backlog"')) >= 2, 'chat_messages_shed_total counts the refusals');
    assert.equal(await metric(stack.apiUrl, 'chat_messages_shed_total', 'reason="intake"'), 0, 'as refused for the backlog only');

    // The worker comes back and drains: every accepted message reaches the member, in order, once.
    await stack.restartWorker();
    await bob.waitForMessages(accepted, conversation.id, 20_000);
    assert.deepEqual(seqsOf(bob.messages(conversation.id)), range(1, accepted));
    // Once the api's own sample of the backlog is back under the bound, the next post is accepted.
    await untilMetric(stack.apiUrl, 'chat_delivery_backlog', (value) => value <= MAX_BACKLOG, 10_000);
    const resumed = await post('after the drain');
    assert.equal(resumed.status, 201, `accepted again after the drain: ${resumed.status} ${resumed.text}`);
    await bob.waitForMessages(accepted + 1, conversation.id, 10_000);
    assert.deepEqual(seqsOf(bob.messages(conversation.id)), range(1, accepted + 1));
  });
});

/** The api's bound on its event loop's delay in this test; the stall below is many times longer. */
const MAX_LOOP_DELAY_MS = 200;
const STALL_MS = 1500;
const STALLED_POSTS = 5;

describe('overload: the api sheds new messages while its own event loop runs late (MAX_EVENT_LOOP_DELAY_MS)', () => {
  let stack: Stack | undefined;

  before(async () => {
    stack = await startStack({ gateways: 0, env: { MAX_EVENT_LOOP_DELAY_MS: String(MAX_LOOP_DELAY_MS) } });
  });

  after(async () => {
    await stack?.stop();
  });

  test('posts that waited while the api had no CPU get 503 + Retry-After with nothing stored; accepted again once it catches up', async () => {
    assert.ok(stack);
    const apiUrl = stack.apiUrl;
    const alice = await registerUser(apiUrl);
    const conversation = await createConversation(apiUrl, alice.token, [], 'intake');
    const post = (text: string): Promise<ApiResponse> =>
      apiRequest(apiUrl, 'POST', `/api/conversations/${conversation.id}/messages`, { token: alice.token, body: { text } });
    const history = async () =>
      (await apiRequest(apiUrl, 'GET', `/api/conversations/${conversation.id}/messages?limit=100`, { token: alice.token })).body as { items: Array<{ seq: number }> };
    assert.equal((await post('before')).status, 201);

    // SIGSTOP is what CPU starvation looks like from inside: the process does not run, and posts
    // wait in its sockets until it does. They are read only after SIGCONT, by then far too late.
    const pid = stack.api.pid;
    process.kill(pid, 'SIGSTOP');
    let stalled: Array<Promise<ApiResponse>>;
    try {
      stalled = Array.from({ length: STALLED_POSTS }, (_, i) => post(`stalled ${i}`));
      await delay(STALL_MS);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    for (const refused of await Promise.all(stalled)) {
      assertErrorShape(refused, 503, 'unavailable');
      assert.equal(refused.headers.get('retry-after'), '1');
    }
    assert.deepEqual((await history()).items.map((message) => message.seq), [1], 'nothing stored for a refused post');
    assert.equal(await metric(apiUrl, 'chat_messages_shed_total', 'reason="intake"'), STALLED_POSTS);
    assert.equal(await metric(apiUrl, 'chat_messages_shed_total', 'reason="backlog"'), 0);
    assert.ok((await metric(apiUrl, 'chat_event_loop_delay_seconds')) >= 0, 'the signal is on /metrics');

    // Once a window of the loop's delay is back under the bound, posts are accepted again; until
    // then every answer is the same refusal, storing nothing.
    const deadline = Date.now() + 10_000;
    let resumed = await post('after');
    while (resumed.status !== 201 && Date.now() < deadline) {
      assertErrorShape(resumed, 503, 'unavailable');
      await delay(50);
      resumed = await post('after');
    }
    assert.equal(resumed.status, 201, `accepted again after the stall: ${resumed.status} ${resumed.text}`);
    assert.deepEqual((await history()).items.map((message) => message.seq), [1, 2]);
  });
});
