import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { editSteadily } from '../support/steady-editor.js';
import { postSteadily } from '../support/steady-poster.js';
import { REDIS_MODES, startStack, type Stack } from '../support/stack.js';
import { assertEveryoneGotEverything, closeRoom, openRoom, storedLastSeq, type Room } from './fault-harness.js';

const RATE = 150;
const DURATION_MS = 3000;

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
