import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { apiRequest } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { assertEveryoneGotEverything, closeRoom, openRoom, storedLastSeq, type Room } from './fault-harness.js';

const into = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const FAST_RECOVERY = { OUTBOX_GRACE_MS: '500', OUTBOX_SWEEP_INTERVAL_MS: '200' };

/**
 * Posts `text` with `clientId` until the api answers 201 or 200 (a repeat), as a client that
 * never saw an answer retries: a timeout, a refused connection and a 503 all mean "try again".
 */
async function postUntilAnswered(apiUrl: string, token: string, conversationId: string, clientId: string, deadline: number) {
  for (let attempt = 0; ; attempt += 1) {
    const answer = await apiRequest(apiUrl, 'POST', `/api/conversations/${conversationId}/messages`, {
      token,
      body: { text: `exactly once ${clientId}`, clientId },
      timeoutMs: 2000,
    }).catch(() => undefined);
    if (answer?.status === 201 || answer?.status === 200) {
      return { status: answer.status, seq: (answer.body as { seq: number }).seq, attempts: attempt + 1 };
    }
    if (answer !== undefined && answer.status !== 503) assert.fail(`${clientId}: ${answer.status} ${answer.text}`);
    if (Date.now() > deadline) assert.fail(`${clientId}: no answer before the deadline`);
    await into(50);
  }
}

describe('sending exactly once under an api crash', () => {
  let stack: Stack | undefined;
  let room: Room | undefined;

  afterEach(async () => {
    await closeRoom(room);
    await stack?.stop();
    room = undefined;
    stack = undefined;
  });

  it('posts retried with their clientId across an api kill -9 are each stored and delivered once', async (t) => {
    stack = await startStack({ gateways: 2, env: FAST_RECOVERY });
    room = await openRoom(stack, 3);
    const { apiUrl } = stack;
    const deadline = Date.now() + 30_000;
    const conversationId = room.conversationId;
    const tokens = room.users.map((user) => user.token);
    const posts = Array.from({ length: 120 }, (_, i) => ({ clientId: `retry-${i}`, token: tokens[i % tokens.length] as string }));
    // 8 at a time, while the api is killed under them and started again.
    const results: Awaited<ReturnType<typeof postUntilAnswered>>[] = [];
    const queue = [...posts];
    const posting = Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let post = queue.shift(); post; post = queue.shift()) {
          results.push(await postUntilAnswered(apiUrl, post.token, conversationId, post.clientId, deadline));
        }
      }),
    );
    await into(300);
    await stack.api.kill();
    await into(300);
    await stack.restartApi();
    await posting;

    const retried = results.filter((result) => result.attempts > 1).length;
    t.diagnostic(`posts ${posts.length}, retried ${retried}, answered 200 (a repeat) ${results.filter((result) => result.status === 200).length}`);
    const lastSeq = await storedLastSeq(apiUrl, tokens[0] as string, conversationId);
    assert.equal(lastSeq, posts.length, 'one stored message per clientId, however often it was sent');
    assert.deepEqual(new Set(results.map((result) => result.seq)).size, posts.length, 'every clientId answered with its own seq');
    await assertEveryoneGotEverything(t, room, lastSeq, results.map((result) => result.seq));
  });
});
