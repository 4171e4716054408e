import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { connectRedis, createKeys, createMessageStore, waitForRedis } from '@chat/store';
import { apiRequest, assertErrorShape } from '../support/api-client.js';
import { postSteadily } from '../support/steady-poster.js';
import { startStack, type Stack } from '../support/stack.js';
import { connectClient } from '../support/ws-client.js';
import { FAST_RECOVERY, assertEveryoneGotEverything, closeRoom, into, openRoom, storedLastSeq, type Room } from './fault-harness.js';

async function waitForStatus(url: string, status: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answered = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (answered === status) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last ${answered})`);
    await into(50);
  }
}

describe('worker, api and Redis faults under a steady message stream', () => {
  let stack: Stack | undefined;
  let room: Room | undefined;
  let redis: RedisServerHandle | undefined;

  afterEach(async () => {
    await closeRoom(room);
    await stack?.stop();
    await redis?.dispose();
    room = undefined;
    stack = undefined;
    redis = undefined;
  });

  it('kill -9 of the worker mid-stream: a new worker takes the jobs back, each delivered once', async (t) => {
    stack = await startStack({ gateways: 2, workerConcurrency: 16, env: FAST_RECOVERY });
    room = await openRoom(stack, 6);
    const posting = postSteadily({ apiUrl: stack.apiUrl, conversationId: room.conversationId, tokens: room.users.map((u) => u.token), perSecond: 200, durationMs: 3000 });
    await into(1000);
    await stack.worker.kill();
    await into(300);
    await stack.restartWorker();
    const posted = await posting;
    assert.deepEqual(posted.refused, {}, 'the api kept accepting while no worker ran');
    const lastSeq = await storedLastSeq(stack.apiUrl, room.users[0]?.token as string, room.conversationId);
    await assertEveryoneGotEverything(t, room, lastSeq, posted.acceptedSeqs);
  });

  it('kill -9 of the api mid-stream: every stored message is delivered (outbox sweeper)', async (t) => {
    stack = await startStack({ gateways: 2, env: FAST_RECOVERY });
    room = await openRoom(stack, 4);
    const posting = postSteadily({ apiUrl: stack.apiUrl, conversationId: room.conversationId, tokens: room.users.map((u) => u.token), perSecond: 200, durationMs: 3000, concurrency: 16 });
    await into(1000);
    await stack.api.kill();
    await into(200);
    await stack.restartApi();
    const posted = await posting;
    t.diagnostic(`posts refused while the api was down: ${JSON.stringify(posted.refused)}`);
    const lastSeq = await storedLastSeq(stack.apiUrl, room.users[0]?.token as string, room.conversationId);
    await assertEveryoneGotEverything(t, room, lastSeq, posted.acceptedSeqs);
  });

  it('a message stored but never enqueued (crash between the two) is delivered by the sweeper', async () => {
    stack = await startStack({ gateways: 1, env: FAST_RECOVERY });
    room = await openRoom(stack, 2);
    const [author] = room.users;
    assert.ok(author);
    // Exactly what the api does before it enqueues, and then nothing: a crash at the worst moment.
    const direct = connectRedis({ url: stack.redis.url, name: 'test', role: 'command' });
    try {
      await waitForRedis(direct, 5000);
      const { message } = await createMessageStore(direct, createKeys(stack.prefix)).append(room.conversationId, author.username, 'orphan');
      await Promise.all(room.clients.map((client) => client.waitForAll(room?.conversationId as string, message.seq, 10_000)));
    } finally {
      direct.disconnect();
    }
  });

  it('Redis killed and restarted (appendfsync always): 503 while away, nothing acknowledged lost', async (t) => {
    redis = await startRedisServer({ appendOnly: true, appendFsync: 'always' });
    stack = await startStack({ gateways: 2, redis, env: FAST_RECOVERY });
    room = await openRoom(stack, 4);
    const posting = postSteadily({ apiUrl: stack.apiUrl, conversationId: room.conversationId, tokens: room.users.map((u) => u.token), perSecond: 150, durationMs: 4000 });
    await into(1000);
    await redis.kill();
    await waitForStatus(`${stack.apiUrl}/readyz`, 503);
    await waitForStatus(`${stack.gatewayUrls[0]}/readyz`, 503);
    const refused = await apiRequest(stack.apiUrl, 'POST', `/api/conversations/${room.conversationId}/messages`, {
      token: room.users[0]?.token as string,
      body: { text: 'while Redis is away' },
      timeoutMs: 3000,
    });
    assertErrorShape(refused, 503, 'unavailable');
    await into(300);
    await redis.restart();
    await waitForStatus(`${stack.apiUrl}/readyz`, 200);
    const posted = await posting;
    t.diagnostic(`posts refused while Redis was away: ${JSON.stringify(posted.refused)}`);
    assert.ok(Object.keys(posted.refused).every((status) => status === '503'), 'only 503s, no hangs');
    const lastSeq = await storedLastSeq(stack.apiUrl, room.users[0]?.token as string, room.conversationId);
    assert.ok(posted.acceptedSeqs.every((seq) => seq <= lastSeq), 'every acknowledged message survived the crash');
    await assertEveryoneGotEverything(t, room, lastSeq, posted.acceptedSeqs);
  });

  it('Redis restarted without fsync on every write: a new epoch, and resume says recovered false', async () => {
    redis = await startRedisServer({ appendOnly: true, appendFsync: 'everysec' });
    stack = await startStack({ gateways: 1, redis });
    room = await openRoom(stack, 2);
    const [alice] = room.users;
    assert.ok(alice);
    const first = await connectClient(stack.wsUrls[0] as string, alice.token);
    const oldEpoch = String(first.frames[0]?.epoch);
    await redis.kill();
    await redis.restart();
    // The gateway sends its sockets away to resume once it sees the new epoch.
    const closed = await first.closed;
    assert.equal(closed.code, 1013);
    await waitForStatus(`${stack.gatewayUrls[0]}/readyz`, 200);
    const second = await connectClient(stack.wsUrls[0] as string, alice.token);
    assert.notEqual(second.frames[0]?.epoch, oldEpoch, 'a new epoch');
    second.send({ type: 'resume', epoch: oldEpoch, cursors: { [room.conversationId]: 0 } });
    assert.deepEqual(await second.nextFrame('resumed'), { type: 'resumed', recovered: false, conversations: [room.conversationId] });
    await second.close();
  });

  it('a reader that stops reading is closed with 1013, then resumes and misses nothing', async (t) => {
    // One author posts thousands of large messages here: lift the per-user request limit.
    stack = await startStack({ gateways: 1, env: { SEND_BUFFER_LIMIT_BYTES: '65536', RATE_LIMIT_PER_USER: '100000' } });
    room = await openRoom(stack, 2);
    const [writer, slow] = room.clients;
    assert.ok(writer && slow);
    slow.pauseReading();
    const big = 'x'.repeat(3900);
    const token = room.users[0]?.token as string;
    // Enough to fill the kernel's socket buffers and then the gateway's bound.
    for (let batch = 0; batch < 40 && !slow.closeCodes.length; batch += 1) {
      await Promise.all(
        Array.from({ length: 50 }, () => apiRequest(stack?.apiUrl as string, 'POST', `/api/conversations/${room?.conversationId}/messages`, { token, body: { text: big } })),
      );
      const metrics = await (await fetch(`${stack.gatewayUrls[0]}/metrics`)).text();
      if (/^chat_gateway_closes_total\{[^}]*code="1013"[^}]*\} [1-9]/m.test(metrics)) break;
    }
    const metrics = await (await fetch(`${stack.gatewayUrls[0]}/metrics`)).text();
    const closes = metrics.split('\n').filter((line) => line.startsWith('chat_gateway_closes_total'));
    assert.match(metrics, /^chat_gateway_closes_total\{[^}]*code="1013"[^}]*\} 1$/m, `the slow reader was closed with 1013: ${closes.join(' | ')}`);
    slow.resumeReading();
    const lastSeq = await storedLastSeq(stack.apiUrl, token, room.conversationId);
    await assertEveryoneGotEverything(t, room, lastSeq, []);
    assert.ok(slow.reconnects >= 1, 'the slow reader reconnected and resumed');
  });
});
