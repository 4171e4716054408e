import assert from 'node:assert/strict';
import { afterEach, describe, it, type TestContext } from 'node:test';
import type { ClusterNodeInfo } from '@chat/devstack';
import { clusterSlot, createKeys } from '@chat/store';
import { postSteadily } from '../support/steady-poster.js';
import { startStack, type Stack } from '../support/stack.js';
import { FAST_RECOVERY, assertEveryoneGotEverything, closeRoom, into, openRoom, storedMessages, type Room } from './fault-harness.js';

/**
 * A busy conversation (6 members, 100 msg/s for `durationMs`) on a fresh cluster stack, with
 * `fault` run 1 s into the stream (given the master that holds the conversation); then every
 * acknowledged message must be stored under its seq (by text: a seq handed out twice would show)
 * and every client must have every stored seq, once, in order.
 */
async function streamThroughFault(
  t: TestContext,
  env: Record<string, string>,
  durationMs: number,
  fault: (stack: Stack, holder: ClusterNodeInfo, slot: number) => Promise<string>,
): Promise<{ stack: Stack; room: Room }> {
  const stack = await startStack({ gateways: 2, mode: 'cluster', env: { ...FAST_RECOVERY, ...env } });
  const room = await openRoom(stack, 6, { resync: true }).catch(async (error: unknown) => {
    await stack.stop();
    throw error;
  });
  current = { stack, room };
  const key = createKeys(stack.prefix, { clustered: true, partitions: 12 }).conversation(room.conversationId);
  const holder = await stack.cluster.masterOf(key);
  const posting = postSteadily({ apiUrl: stack.apiUrl, conversationId: room.conversationId, tokens: room.users.map((user) => user.token), perSecond: 100, durationMs });
  await into(1000);
  const what = await fault(stack, holder, clusterSlot(key));
  const posted = await posting;

  const stored = await storedMessages(stack.apiUrl, room.users[0]?.token as string, room.conversationId);
  const lastSeq = Math.max(0, ...stored.keys());
  const lostAcknowledged = [...posted.acceptedTexts].filter(([seq, text]) => stored.get(seq) !== text);
  t.diagnostic(
    `${what}; posted ${posted.attempted}, acknowledged ${posted.acceptedSeqs.length}, refused ${JSON.stringify(posted.refused)}, ` +
      `acknowledged but lost ${lostAcknowledged.length}`,
  );
  assert.deepEqual(lostAcknowledged, [], 'every acknowledged message is stored under its seq');
  assert.ok(posted.acceptedSeqs.length > 0.5 * posted.attempted, 'most posts were acknowledged');
  // A node away or a slot on the move is "try again" (503), never an unexplained 500.
  assert.ok(Object.keys(posted.refused).every((status) => status === '503'), `only 503s: ${JSON.stringify(posted.refused)}`);
  await assertEveryoneGotEverything(t, room, lastSeq, posted.acceptedSeqs, 30_000);
  return { stack, room };
}

let current: { stack: Stack; room: Room } | undefined;

describe('Redis Cluster faults under a steady message stream', () => {
  afterEach(async () => {
    await closeRoom(current?.room);
    await current?.stack.stop();
    current = undefined;
  });

  it('kill -9 of the master holding a busy conversation, REDIS_WAIT_REPLICAS=1: its replica takes over and no acknowledged message is lost', async (t) => {
    await streamThroughFault(t, { REDIS_WAIT_REPLICAS: '1' }, 9000, async (stack, victim) => {
      await stack.cluster.kill(victim.port);
      const failover = await stack.cluster.waitForFailover(victim.port, 15_000);
      // Back as a replica of the promoted node: until then no replica can confirm a write (503).
      await stack.cluster.restart(victim.port);
      await stack.cluster.waitForHealthy(15_000);
      return `failover ${victim.port} -> ${failover.promoted.port} in ${failover.afterMs} ms`;
    });
  });

  it('the slot of a busy conversation moves to another master under traffic: nothing lost, doubled or out of order', async (t) => {
    let target: ClusterNodeInfo | undefined;
    const { stack, room } = await streamThroughFault(t, {}, 6000, async (stack, source, slot) => {
      target = (await stack.cluster.topology()).find((node) => node.role === 'master' && node.port !== source.port);
      assert.ok(target);
      // Key by key, 100 ms apart: the conversation, its partition's outbox and queue meet the slot half-moved.
      const move = await stack.cluster.moveSlot(slot, target.port, { keysPerStep: 1, pauseMs: 100 });
      return `slot ${slot} moved ${source.port} -> ${target.port}: ${move.keys} keys in ${move.afterMs} ms`;
    });
    const key = createKeys(stack.prefix, { clustered: true, partitions: 12 }).conversation(room.conversationId);
    assert.equal((await stack.cluster.masterOf(key)).port, target?.port, 'the slot moved');
    assert.ok(room.clients.every((client) => client.resyncs === 0), 'no client had to reload: the history never changed');
  });
});
