import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { clusterSlot, createKeys } from '@chat/store';
import { postSteadily } from '../support/steady-poster.js';
import { startStack, type Stack } from '../support/stack.js';
import { FAST_RECOVERY, assertEveryoneGotEverything, closeRoom, into, openRoom, storedMessages, type Room } from './fault-harness.js';

describe('Redis Cluster faults under a steady message stream', () => {
  let stack: Stack | undefined;
  let room: Room | undefined;

  afterEach(async () => {
    await closeRoom(room);
    await stack?.stop();
    room = undefined;
    stack = undefined;
  });

  it('kill -9 of the master holding a busy conversation, REDIS_WAIT_REPLICAS=1: its replica takes over and no acknowledged message is lost', async (t) => {
    stack = await startStack({ gateways: 2, mode: 'cluster', env: { ...FAST_RECOVERY, REDIS_WAIT_REPLICAS: '1' } });
    const cluster = stack.cluster;
    room = await openRoom(stack, 6, { resync: true });
    const keys = createKeys(stack.prefix, { clustered: true, partitions: 12 });
    const victim = await cluster.masterOf(keys.conversation(room.conversationId));
    const owner = room.users[0]?.token as string;

    const posting = postSteadily({
      apiUrl: stack.apiUrl,
      conversationId: room.conversationId,
      tokens: room.users.map((user) => user.token),
      perSecond: 100,
      durationMs: 9000,
    });
    await into(1500);
    await cluster.kill(victim.port);
    const failover = await cluster.waitForFailover(victim.port, 15_000);
    // Back as a replica of the promoted node: until then no replica can confirm a write (503).
    await cluster.restart(victim.port);
    await cluster.waitForHealthy(15_000);
    const posted = await posting;

    const stored = await storedMessages(stack.apiUrl, owner, room.conversationId);
    const lastSeq = Math.max(0, ...stored.keys());
    const lostAcknowledged = [...posted.acceptedTexts].filter(([seq, text]) => stored.get(seq) !== text);
    t.diagnostic(
      `failover ${victim.port} -> ${failover.promoted.port} in ${failover.afterMs} ms; posted ${posted.attempted}, ` +
        `acknowledged ${posted.acceptedSeqs.length}, refused ${JSON.stringify(posted.refused)}, acknowledged but lost ${lostAcknowledged.length}`,
    );
    assert.deepEqual(lostAcknowledged, [], 'every acknowledged message is stored, under its seq, after the failover');
    assert.ok(posted.acceptedSeqs.length > 0.5 * posted.attempted, 'most posts were acknowledged');
    await assertEveryoneGotEverything(t, room, lastSeq, posted.acceptedSeqs, 30_000);
  });

  it('the slot of a busy conversation moves to another master under traffic: nothing lost, doubled or out of order', async (t) => {
    stack = await startStack({ gateways: 2, mode: 'cluster', env: FAST_RECOVERY });
    const cluster = stack.cluster;
    room = await openRoom(stack, 6, { resync: true });
    const keys = createKeys(stack.prefix, { clustered: true, partitions: 12 });
    const slot = clusterSlot(keys.conversation(room.conversationId));
    const source = await cluster.masterOf(keys.conversation(room.conversationId));
    const target = (await cluster.topology()).find((node) => node.role === 'master' && node.port !== source.port);
    assert.ok(target);

    const posting = postSteadily({
      apiUrl: stack.apiUrl,
      conversationId: room.conversationId,
      tokens: room.users.map((user) => user.token),
      perSecond: 100,
      durationMs: 6000,
    });
    await into(1000);
    // Key by key, 100 ms apart: the conversation, its partition's outbox and queue meet the slot half-moved.
    const move = await cluster.moveSlot(slot, target.port, { keysPerStep: 1, pauseMs: 100 });
    const posted = await posting;
    assert.equal((await cluster.masterOf(keys.conversation(room.conversationId))).port, target.port, 'the slot moved');

    const stored = await storedMessages(stack.apiUrl, room.users[0]?.token as string, room.conversationId);
    const lastSeq = Math.max(0, ...stored.keys());
    const lostAcknowledged = [...posted.acceptedTexts].filter(([seq, text]) => stored.get(seq) !== text);
    t.diagnostic(
      `slot ${slot} moved ${source.port} -> ${target.port}: ${move.keys} keys in ${move.afterMs} ms; posted ${posted.attempted}, ` +
        `acknowledged ${posted.acceptedSeqs.length}, refused ${JSON.stringify(posted.refused)}, acknowledged but lost ${lostAcknowledged.length}`,
    );
    assert.deepEqual(lostAcknowledged, []);
    await assertEveryoneGotEverything(t, room, lastSeq, posted.acceptedSeqs, 30_000);
    assert.ok(room.clients.every((client) => client.resyncs === 0), 'no client had to reload: the history never changed');
  });
});
