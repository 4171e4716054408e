import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { DELIVERY_QUEUE, DRAIN_JOB, deliveryPartition, type DrainJob } from '@chat/contracts';
import { startApiInProcess, type ApiInProcess } from '../support/api-app.js';
import {
  apiRequest,
  assertErrorShape,
  createConversation,
  postMessage,
  randomUsername,
  registerUser,
  type ApiRequestOptions,
  type ConversationBody,
  type HttpMethod,
  type RegisteredUser,
} from '../support/api-client.js';

let app: ApiInProcess;

before(async () => {
  // A generous enqueue timeout: after the Redis restart the queue connection must have time to
  // reconnect, so a missing job means a real failure rather than a slow reconnect.
  app = await startApiInProcess({ enqueueTimeoutMs: 5000 });
});

after(async () => {
  await app?.stop();
});

/** Polls until `check` holds or fails loudly at the deadline; for states with no event to wait on. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('health, readiness and metrics', () => {
  test('/healthz is 200 {status: ok}', async () => {
    const response = await apiRequest(app.url, 'GET', '/healthz');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { status: 'ok' });
  });

  test('/readyz is 200 while Redis answers', async () => {
    const response = await apiRequest(app.url, 'GET', '/readyz');
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { status: 'ready' });
  });

  test('the health routes need no token', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      assert.equal((await apiRequest(app.url, 'GET', path)).status, 200, path);
    }
  });

  test('/metrics is Prometheus text with request durations by route pattern, never by raw id', async () => {
    const user = await registerUser(app.url);
    const conversation = await createConversation(app.url, user.token, [], 'metrics');
    await postMessage(app.url, user.token, conversation.id, 'counted');
    assert.equal((await apiRequest(app.url, 'GET', `/api/conversations/${conversation.id}`, { token: user.token })).status, 200);
    assert.equal((await apiRequest(app.url, 'GET', '/api/conversations/AAAAAAAAAAAAAAAA', { token: user.token })).status, 404);

    const response = await apiRequest(app.url, 'GET', '/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = response.text;
    assert.match(text, /^# HELP http_request_duration_seconds /m);
    assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
    assert.match(text, /^http_request_duration_seconds_bucket\{.*route="\/api\/conversations\/:id".*status="200".*\} \d+/m);
    assert.match(text, /^http_request_duration_seconds_count\{.*route="\/api\/auth\/register".*status="201".*\} 1$/m);
    assert.match(text, /^chat_messages_accepted_total\{.*\} 1$/m);
    assert.match(text, /^process_cpu_user_seconds_total/m, "Node's default metrics");
    assert.ok(!text.includes(conversation.id), 'no conversation id in a label');
    assert.ok(!text.includes('AAAAAAAAAAAAAAAA'), 'no unknown id in a label');
    assert.ok(!text.includes(user.username), 'no username in a label');
  });

  test('a request that fails inside a route is labelled with the same full route pattern as a success', async () => {
    const user = await registerUser(app.url);
    assert.equal((await apiRequest(app.url, 'GET', '/api/conversations/BBBBBBBBBBBBBBBB', { token: user.token })).status, 404);
    assert.equal((await apiRequest(app.url, 'GET', '/api/me', { token: 'bad' })).status, 401);
    const counts = (await apiRequest(app.url, 'GET', '/metrics')).text
      .split('\n')
      .filter((line) => line.startsWith('http_request_duration_seconds_count'))
      .join('\n');
    assert.match(counts, /route="\/api\/conversations\/:id",status="404"/, counts);
    // Refused by authentication before any route matched: no route pattern to name.
    assert.match(counts, /route="unmatched",status="401"/, counts);
    assert.doesNotMatch(counts, /route="\/(conversations|me|auth)(\/|")/, `no label without the /api mount path:\n${counts}`);
  });
});

describe('Redis down', () => {
  let alice: RegisteredUser;
  let conversation: ConversationBody;
  let deliveries: Queue<DrainJob>;

  before(async () => {
    alice = await registerUser(app.url);
    conversation = await createConversation(app.url, alice.token, [], 'outage');
    await postMessage(app.url, alice.token, conversation.id, 'before the outage');
    deliveries = new Queue<DrainJob>(DELIVERY_QUEUE, { connection: app.redis, prefix: app.keys.queuePrefix(0) });
  });

  after(async () => {
    await deliveries?.close();
  });

  test('503 unavailable quickly while Redis is down, and service resumes after it restarts', async () => {
    await app.redisServer.kill();

    const readyz = await apiRequest(app.url, 'GET', '/readyz', { timeoutMs: 5000 });
    assertErrorShape(readyz, 503, 'unavailable');
    const healthz = await apiRequest(app.url, 'GET', '/healthz');
    assert.equal(healthz.status, 200, 'the process is alive even though Redis is not');

    const attempts: [HttpMethod, string, ApiRequestOptions][] = [
      ['POST', `/api/conversations/${conversation.id}/messages`, { token: alice.token, body: { text: 'during the outage' } }],
      ['POST', `/api/conversations/${conversation.id}/messages`, { token: alice.token, body: { text: 'again' } }],
      ['GET', `/api/conversations/${conversation.id}/messages`, { token: alice.token }],
      ['GET', '/api/conversations', { token: alice.token }],
      ['POST', '/api/conversations', { token: alice.token, body: { title: 'x', users: [] } }],
      ['PATCH', `/api/conversations/${conversation.id}`, { token: alice.token, body: { title: 'renamed in outage' } }],
      ['GET', '/api/me', { token: alice.token }],
      ['POST', '/api/auth/login', { body: { username: alice.username, password: alice.password } }],
      ['POST', '/api/auth/register', { body: { username: randomUsername(), password: 'long enough password' } }],
    ];
    for (const [method, path, options] of attempts) {
      const started = Date.now();
      const response = await apiRequest(app.url, method, path, { ...options, timeoutMs: 5000 });
      const elapsed = Date.now() - started;
      assertErrorShape(response, 503, 'unavailable');
      assert.ok(elapsed < 3000, `${method} ${path} answered in ${elapsed} ms, should be under 3 s`);
    }
    // Requests that need no Redis keep working; an authenticated one needs the rate-limit counter.
    assertErrorShape(await apiRequest(app.url, 'GET', '/api/me'), 401, 'unauthenticated');
    assertErrorShape(
      await apiRequest(app.url, 'POST', '/api/conversations', { token: alice.token, body: { title: '' } }),
      503,
      'unavailable',
    );

    await app.redisServer.restart();
    await eventually('/readyz answers 200 again', async () => (await apiRequest(app.url, 'GET', '/readyz')).status === 200);

    // Nothing was half-written during the outage: the next message follows the one before it.
    // As if a worker had drained the partition: the next message enqueues a drain.
    const partition = deliveryPartition(conversation.id);
    await app.redis.del(app.keys.wake(partition));
    const jobsBefore = await deliveries.count();
    const next = await postMessage(app.url, alice.token, conversation.id, 'after the outage');
    assert.equal(next.seq, 2);
    const history = await apiRequest(app.url, 'GET', `/api/conversations/${conversation.id}/messages`, { token: alice.token });
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(
      (history.body as { items: { text: string }[] }).items.map((m) => m.text),
      ['before the outage', 'after the outage'],
    );
    const fetched = await apiRequest(app.url, 'GET', `/api/conversations/${conversation.id}`, { token: alice.token });
    assert.equal((fetched.body as ConversationBody).title, 'outage', 'the PATCH during the outage changed nothing');

    // The delivery queue works again too (its connection reconnected).
    assert.equal(await deliveries.count(), jobsBefore + 1);
    const [job] = await deliveries.getJobs(['waiting'], 0, 0, false);
    assert.equal(job?.name, DRAIN_JOB);
    assert.deepEqual(job?.data, { partition });

    // Fresh writes and logins work after the restart (scripts are reloaded after NOSCRIPT).
    const bob = await registerUser(app.url);
    const login = await apiRequest(app.url, 'POST', '/api/auth/login', { body: { username: bob.username, password: bob.password } });
    assert.equal(login.status, 200, login.text);
    const fresh = await createConversation(app.url, bob.token, [alice.username], 'after');
    assert.equal((await postMessage(app.url, alice.token, fresh.id, 'hello again')).seq, 1);
    const patched = await apiRequest(app.url, 'PATCH', `/api/conversations/${fresh.id}`, { token: bob.token, body: { title: 'renamed' } });
    assert.equal(patched.status, 200, patched.text);
  });
});
