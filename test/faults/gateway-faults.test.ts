import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { apiRequest, registerUser, type RegisteredUser } from '../support/api-client.js';
import { ResilientClient } from '../support/resilient-client.js';
import { editSteadily } from '../support/steady-editor.js';
import { postSteadily } from '../support/steady-poster.js';
import { REDIS_MODES, startStack, type Stack } from '../support/stack.js';
import { assertEveryoneGotEverything, closeRoom, openRoom, storedLastSeq, type Room } from './fault-harness.js';

const RATE = 150;
const DURATION_MS = 3000;
/** Messages per second while members are added and removed. */
const MEMBERSHIP_RATE = 100;

/** Resolves after `ms`: used only to place a fault inside a stream, never to wait for a result. */
const into = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForSubscribers(admin: Redis, count: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    if (list.split('\n').filter((line) => line.trim().length > 0).length >= count) return;
    await into(50);
  }
  throw new Error(`fewer than ${count} subscriber connections after 5 s`);
}

// On one Redis and on a local Redis Cluster (sharded pub/sub: each replica follows its channels per shard).
for (const mode of REDIS_MODES) describe(`gateway faults under a steady message stream (${mode} Redis)`, () => {
  let stack: Stack;
  let room: Room | undefined;

  before(async () => {
    stack = await startStack({ gateways: 2, workerConcurrency: 8, mode });
  });
  afterEach(async () => {
    await closeRoom(room);
    room = undefined;
  });
  after(async () => {
    await stack?.stop();
  });

  async function streamWithFault(fault: () => Promise<void>) {
    room = await openRoom(stack, 6);
    const owner = room.users[0];
    assert.ok(owner);
    const posting = postSteadily({
      apiUrl: stack.apiUrl,
      conversationId: room.conversationId,
      tokens: room.users.map((user) => user.token),
      perSecond: RATE,
      durationMs: DURATION_MS,
    });
    await into(DURATION_MS / 3);
    await fault();
    const posted = await posting;
    assert.deepEqual(posted.refused, {}, 'the api answered every post with 201');
    return { posted, lastSeq: await storedLastSeq(stack.apiUrl, owner.token, room.conversationId) };
  }

  it('kill -9 of a gateway: its clients resume on the other replica and miss nothing', async (t) => {
    try {
      const { posted, lastSeq } = await streamWithFault(async () => {
        await stack.gateways[0]?.kill();
      });
      await assertEveryoneGotEverything(t, room as Room, lastSeq, posted.acceptedSeqs);
      assert.ok((room as Room).clients.some((client) => client.closeCodes.includes(1006)), 'some client lost its socket');
    } finally {
      // The next tests need both replicas, whatever happened here.
      await stack.restartGateway(0);
    }
  });

  it('kill -9 of a gateway while edits and deletions flow: clients resume with revs and miss no message and no change', async (t) => {
    room = await openRoom(stack, 6);
    const { users, conversationId } = room;
    const owner = users[0];
    assert.ok(owner);
    const recent: { seq: number; token: string }[] = [];
    try {
      const posting = postSteadily({
        apiUrl: stack.apiUrl,
        conversationId,
        tokens: users.map((user) => user.token),
        perSecond: RATE,
        durationMs: DURATION_MS,
        onAccepted: (seq, token) => {
          recent.push({ seq, token });
          if (recent.length > 50) recent.shift();
        },
      });
      // Edits race with the delivery of the messages they change: the newest ones are picked, by
      // three editors at once (two may change one message concurrently).
      const editing = Array.from({ length: 3 }, () =>
        editSteadily({
          apiUrl: stack.apiUrl,
          conversationId,
          perSecond: 30,
          durationMs: DURATION_MS,
          pick: () => recent[Math.floor(Math.random() * recent.length)],
        }),
      );
      await into(DURATION_MS / 3);
      await stack.gateways[0]?.kill();
      const [posted, ...editors] = await Promise.all([posting, ...editing]);
      assert.deepEqual(posted.refused, {}, 'the api answered every post with 201');
      for (const edited of editors) {
        assert.deepEqual(edited.refused, {}, 'the api answered every edit and deletion with 200 (or 409 for an edit of a deleted message)');
      }
      // A repeated deletion answers the tombstone's rev again and sends nothing: one change per rev.
      const changes = [...new Map(editors.flatMap((edited) => edited.changes).map((change) => [change.rev, change])).values()];
      assert.ok(changes.length >= 10, `edits flowed (${changes.length})`);
      const lastSeq = await storedLastSeq(stack.apiUrl, owner.token, conversationId);
      await assertEveryoneGotEverything(t, room, lastSeq, posted.acceptedSeqs, 20_000, changes);
      assert.ok(room.clients.some((client) => client.closeCodes.includes(1006)), 'some client lost its socket');
      for (const [index, client] of room.clients.entries()) {
        // A client that stayed connected saw every change live; one that moved may have got a
        // change superseded while it was away as its later version only.
        if (client.reconnects === 0) assert.equal(client.booksOf(conversationId).updates.received, changes.length, `client ${index} got every update live`);
      }
    } finally {
      await stack.restartGateway(0);
    }
  });

  // One Redis: membership notices and messages race on one pub/sub connection per replica.
  if (mode === 'single') it('kill -9 of a gateway while a member is added and one removed: each gets exactly what the contract owes it', async (t) => {
    // Users 0..3 stay members and post; 4 is removed; a fifth is added. Client i starts on replica
    // i % 2: the one removed and the one added start on replica 0, which is killed between the two.
    room = await openRoom(stack, 5);
    const { users, conversationId, clients } = room;
    const [owner, stay1, stay2, stay3, leaving] = users as [RegisteredUser, ...RegisteredUser[]];
    assert.ok(stay1 && stay2 && stay3 && leaving);
    const joining = await registerUser(stack.apiUrl);
    const joiningClient = new ResilientClient(stack.wsUrls, joining.token, 0);
    clients.push(joiningClient);
    // Connected and ready before it is added: it learns of the conversation live (`added`, then messages).
    await joiningClient.start();
    const [leavingClient] = clients.slice(4);
    assert.ok(leavingClient);
    const answered: number[] = [];

    /**
     * Sets the members and tells where the change falls in the seqs: `answeredBefore`, the highest
     * seq answered 201 before the PATCH was answered, and `storedAfter`, the conversation's last seq
     * read once it was: every seq above it was stored (so published) after the change was acknowledged.
     */
    async function setMembers(members: readonly RegisteredUser[]) {
      const response = await apiRequest(stack.apiUrl, 'PATCH', `/api/conversations/${conversationId}`, {
        token: owner.token,
        body: { users: members.map((user) => user.username) },
        timeoutMs: 5000,
      });
      const answeredBefore = Math.max(0, ...answered);
      assert.equal(response.status, 200, response.text);
      const read = await apiRequest(stack.apiUrl, 'GET', `/api/conversations/${conversationId}`, { token: owner.token, timeoutMs: 5000 });
      assert.equal(read.status, 200, read.text);
      return { answeredBefore, storedAfter: (read.body as { lastSeq: number }).lastSeq };
    }

    try {
      const posting = postSteadily({
        apiUrl: stack.apiUrl,
        conversationId,
        tokens: [owner, stay1, stay2, stay3].map((user) => user.token),
        perSecond: MEMBERSHIP_RATE,
        durationMs: DURATION_MS,
        onAccepted: (seq) => answered.push(seq),
      });
      await into(DURATION_MS / 5);
      const addition = await setMembers([stay1, stay2, stay3, leaving, joining]);
      await into(DURATION_MS / 5);
      await stack.gateways[0]?.kill();
      await into(DURATION_MS / 5);
      const removal = await setMembers([stay1, stay2, stay3, joining]);
      const posted = await posting;
      assert.deepEqual(posted.refused, {}, 'the api answered every post with 201');
      const lastSeq = await storedLastSeq(stack.apiUrl, owner.token, conversationId);
      assert.ok(removal.storedAfter < lastSeq && addition.storedAfter < removal.answeredBefore, 'messages flowed across both changes');

      const joinedFrom = addition.storedAfter + 1;
      const outcomes = await Promise.allSettled([
        ...clients.slice(0, 4).map((client) => client.waitForAll(conversationId, lastSeq, 20_000)),
        joiningClient.waitForAll(conversationId, lastSeq, 20_000, [], joinedFrom),
      ]);
      // Whatever the removed client would wrongly get was published with what the others got by now.
      await into(300);

      const books = (client: ResilientClient) => {
        const { received, duplicated, outOfOrder } = client.booksOf(conversationId);
        return `received ${received} duplicated ${duplicated} out-of-order ${outOfOrder} | reconnects ${client.reconnects} closes [${client.closeCodes.join(',')}]`;
      };
      t.diagnostic(`stored ${lastSeq}, acknowledged ${posted.acceptedSeqs.length}; added: answered ≤ ${addition.answeredBefore}, stored ≤ ${addition.storedAfter}; removed: answered ≤ ${removal.answeredBefore}, stored ≤ ${removal.storedAfter}`);
      for (const [index, client] of clients.slice(0, 4).entries()) {
        t.diagnostic(`client ${index} (member throughout): expected ${lastSeq} lost ${client.missing(conversationId, lastSeq).length} ${books(client)}`);
      }
      const joinedSeqs = joiningClient.received(conversationId);
      const joinedFirst = joinedSeqs[0] ?? lastSeq + 1;
      t.diagnostic(
        `client added: expected ${lastSeq - addition.storedAfter} (seqs ${joinedFrom}..${lastSeq}) lost ${joiningClient.missing(conversationId, lastSeq, joinedFrom).length} ` +
          `first ${joinedFirst} before the addition's answer ${joinedSeqs.filter((seq) => seq <= addition.storedAfter).length} ` +
          `gaps after first ${joiningClient.missing(conversationId, lastSeq, joinedFirst).length} ${books(joiningClient)}`,
      );
      const leftSeqs = leavingClient.received(conversationId);
      const leftLast = leftSeqs.at(-1) ?? 0;
      const removedFrame = leavingClient.conversationFrames.find((frame) => frame.event === 'removed' && frame.id === conversationId);
      t.diagnostic(
        `client removed: expected ${leftLast} (seqs 1..${leftLast}, all it held) lost ${leavingClient.missing(conversationId, leftLast).length} ` +
          `after removal ${leftSeqs.filter((seq) => seq > removal.storedAfter).length} ` +
          `after its 'removed' frame ${leftSeqs.length - (removedFrame?.heldBefore ?? 0)} ` +
          `between the last answered and the last stored ${leftSeqs.filter((seq) => seq > removal.answeredBefore && seq <= removal.storedAfter).length} ${books(leavingClient)}`,
      );
      for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;

      for (const [index, client] of clients.entries()) {
        const { duplicated, outOfOrder } = client.booksOf(conversationId);
        assert.equal(duplicated, 0, `client ${index} got no duplicates`);
        assert.equal(outOfOrder, 0, `client ${index} got nothing out of order`);
      }
      for (const [index, client] of clients.slice(0, 4).entries()) {
        assert.deepEqual(client.missing(conversationId, lastSeq), [], `client ${index} lost nothing`);
      }
      assert.deepEqual(joiningClient.missing(conversationId, lastSeq, joinedFrom), [], 'the added client got every message accepted after its addition');
      const added = joiningClient.conversationFrames.find((frame) => frame.event === 'added' && frame.id === conversationId);
      assert.equal(added?.heldBefore, 0, "the added client was told `added` before the conversation's first message");
      assert.deepEqual(leavingClient.missing(conversationId, leftLast), [], 'the removed client lost nothing before its removal');
      assert.deepEqual(leftSeqs.filter((seq) => seq > removal.storedAfter), [], 'the removed client got nothing published after its removal was acknowledged');
      assert.ok(removedFrame, 'the removed client was told `removed`');
      assert.equal(leftSeqs.length, removedFrame.heldBefore, "the removed client got nothing after its 'removed' frame");
      assert.ok(leavingClient.closeCodes.includes(1006) && joiningClient.closeCodes.includes(1006), 'both moved to the other replica');
    } finally {
      await stack.restartGateway(0);
    }
  });

  it('SIGTERM of a gateway: its clients are told 1001, move, and miss nothing', async (t) => {
    try {
      const { posted, lastSeq } = await streamWithFault(async () => {
        assert.equal(await stack.gateways[1]?.stop('SIGTERM', 10_000), 0, 'the gateway exits 0');
      });
      await assertEveryoneGotEverything(t, room as Room, lastSeq, posted.acceptedSeqs);
      assert.ok((room as Room).clients.some((client) => client.closeCodes.includes(1001)), 'some client was sent 1001');
    } finally {
      await stack.restartGateway(1);
    }
  });

  // One Redis: every subscriber connection is cut at once (on a cluster, cluster-faults.test.ts
  // takes a shard away by failover and by moving a slot).
  if (mode === 'single') it('lost pub/sub subscriptions: every socket gets what was published meanwhile', async (t) => {
    const admin = new Redis(stack.redis.url);
    try {
      const { posted, lastSeq } = await streamWithFault(async () => {
        // Cut every subscriber connection three times in a row while messages keep coming, each
        // time once both gateways have subscribed again.
        for (let i = 0; i < 3; i += 1) {
          await waitForSubscribers(admin, 2);
          const killed = await admin.client('KILL', 'TYPE', 'pubsub');
          assert.ok(Number(killed) >= 2, 'both gateways had a subscriber connection');
          await into(100);
        }
      });
      await assertEveryoneGotEverything(t, room as Room, lastSeq, posted.acceptedSeqs);
      assert.ok((room as Room).clients.every((client) => client.reconnects === 0), 'no client had to reconnect');
      for (const url of stack.gatewayUrls) {
        const metrics = await (await fetch(`${url}/metrics`)).text();
        assert.match(metrics, /^chat_redis_reconnects_total\{[^}]*connection="subscriber"[^}]*\} [1-9]/m, 'the gateway noticed and recovered');
      }
    } finally {
      admin.disconnect();
    }
  });
});
