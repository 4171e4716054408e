import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import {
  CLUSTER_SLOTS,
  freeClusterPort,
  redisReachable,
  slotCount,
  startRedisCluster,
  type ClusterNodeInfo,
  type RedisClusterHandle,
} from '@chat/devstack';
import { waitFor } from '../support/wait-for.js';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of the processes whose working dir is in `dir` (redis-server runs in its data dir). Linux only. */
async function processesWorkingUnder(dir: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const cwds = await Promise.all(pids.map((pid) => readlink(`/proc/${pid}/cwd`).catch(() => '')));
  return pids.filter((_, index) => cwds[index]?.startsWith(dir)).map(Number);
}

/** `count` names `make(i)` whose slots are served by `count` different masters. */
async function onDistinctShards(cluster: RedisClusterHandle, count: number, make: (i: number) => string) {
  const byMaster = new Map<number, string>();
  for (let i = 1; byMaster.size < count; i += 1) {
    assert.ok(i < 200, `no ${count} names on distinct shards among the first 200`);
    const name = make(i);
    const master = await cluster.masterOf(name);
    if (!byMaster.has(master.port)) byMaster.set(master.port, name);
  }
  return [...byMaster.entries()].map(([port, name]) => ({ port, name }));
}

/** What a gateway's subscriber would see: every smessage/smessageBuffer, and ioredis's own events, timed. */
function recordSubscriber(subscriber: Cluster) {
  const started = Date.now();
  const messages: Array<{ channel: string; message: string; at: number }> = [];
  const buffers: Array<{ channel: Buffer; message: Buffer }> = [];
  const events: Array<{ name: string; at: number; detail: string }> = [];
  subscriber.on('smessage', (channel: string, message: string) => messages.push({ channel, message, at: Date.now() }));
  subscriber.on('smessageBuffer', (channel: Buffer, message: Buffer) => buffers.push({ channel, message }));
  for (const name of ['error', '-node', '+node', '-subscriber', '+subscriber', 'subscribersReady', 'refresh']) {
    subscriber.on(name, (first: unknown) => {
      events.push({ name, at: Date.now() - started, detail: first instanceof Error ? first.message : '' });
    });
  }
  return {
    messages,
    buffers,
    events,
    received: (channel: string, message: string) =>
      messages.some((entry) => entry.channel === channel && entry.message === message),
  };
}

function describeTopology(nodes: ClusterNodeInfo[]): string {
  return nodes.map((node) => `${node.port} ${node.role}${node.failing ? ' failing' : ''} ${slotCount(node)} slots`).join('; ');
}

describe('startRedisCluster', () => {
  test('starts 3 masters and 3 replicas over every slot; a kept dir starts the same cluster again; dispose leaves nothing running', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'chat-cluster-test-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const first = await startRedisCluster({ dir });
    t.after(() => first.dispose());

    const nodes = await first.topology();
    const masters = nodes.filter((node) => node.role === 'master');
    const replicas = nodes.filter((node) => node.role === 'replica');
    assert.equal(masters.length, 3, describeTopology(nodes));
    assert.equal(replicas.length, 3, describeTopology(nodes));
    assert.equal(masters.reduce((sum, node) => sum + slotCount(node), 0), CLUSTER_SLOTS);
    for (const master of masters) {
      assert.ok(slotCount(master) > 0, `master ${master.port} serves no slot`);
      assert.equal(replicas.filter((replica) => replica.masterId === master.id).length, 1, `one replica of ${master.port}`);
    }
    assert.deepEqual(new Set(nodes.map((node) => node.port)), new Set(first.ports));
    assert.ok(nodes.every((node) => node.host === '127.0.0.1'));

    // A key on each shard, written through the cluster client and read back on the master that owns it.
    const keys = await onDistinctShards(first, 3, (i) => `key-${i}`);
    const client = new Cluster([...first.seeds]);
    try {
      for (const { name } of keys) await client.set(name, `value of ${name}`);
      for (const { name } of keys) assert.equal(await client.get(name), `value of ${name}`);
      const info = await client.cluster('INFO');
      assert.match(String(info), /cluster_state:ok/);
      assert.match(String(info), new RegExp(`cluster_slots_ok:${CLUSTER_SLOTS}`));
    } finally {
      client.disconnect();
    }
    for (const { port, name } of keys) {
      const direct = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      await direct.connect();
      assert.equal(await direct.get(name), `value of ${name}`, `${name} is stored on its master ${port}`);
      direct.disconnect();
    }

    const pids = first.ports.map((port) => first.pid(port));
    assert.ok(pids.every((pid) => pid !== undefined && isRunning(pid)));
    assert.deepEqual(new Set(await processesWorkingUnder(dir)), new Set(pids), 'each node runs in its own node dir');
    await first.dispose();
    await first.dispose();
    assert.deepEqual(pids.filter((pid) => isRunning(pid!)), [], 'no redis-server left running');
    for (const port of first.ports) assert.equal(await redisReachable(`redis://127.0.0.1:${port}`, 300), false);

    // npm start keeps its cluster in .data/: the same dir brings back the same nodes, ports and data.
    const second = await startRedisCluster({ dir });
    t.after(() => second.dispose());
    assert.deepEqual(second.ports, first.ports);
    const again = new Cluster([...second.seeds]);
    try {
      for (const { name } of keys) assert.equal(await again.get(name), `value of ${name}`);
    } finally {
      again.disconnect();
    }
    const secondPids = second.ports.map((port) => second.pid(port));
    await second.dispose();
    assert.deepEqual(secondPids.filter((pid) => isRunning(pid!)), [], 'no redis-server left running');
  });

  test('a start that fails once the nodes run stops them all, and says why', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'chat-cluster-test-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // node-1 remembers a peer the other five never met: not a cluster these nodes can form.
    const [port, ghostPort] = [await freeClusterPort(), await freeClusterPort()];
    await mkdir(join(dir, 'node-1'));
    await writeFile(
      join(dir, 'node-1', 'nodes.conf'),
      [
        `${'a'.repeat(40)} 127.0.0.1:${port}@${port + 10_000} myself,master - 0 0 0 connected`,
        `${'b'.repeat(40)} 127.0.0.1:${ghostPort}@${ghostPort + 10_000} master - 0 0 0 connected`,
        'vars currentEpoch 0 lastVoteEpoch 0',
        '',
      ].join('\n'),
    );
    await assert.rejects(startRedisCluster({ dir, appendOnly: false }), /not made of exactly these 6 nodes/);
    assert.deepEqual(await processesWorkingUnder(dir), [], 'every node it started is stopped');
    assert.equal(await redisReachable(`redis://127.0.0.1:${port}`, 300), false);
  });
});

describe('sharded pub/sub through ioredis Cluster { shardedSubscribers: true }', () => {
  let cluster: RedisClusterHandle;
  const clients: Cluster[] = [];
  before(async () => {
    cluster = await startRedisCluster({ appendOnly: false, nodeTimeoutMs: 1000 });
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.dispose();
  });

  function connect(options: { shardedSubscribers?: boolean } = {}): Cluster {
    const client = new Cluster([...cluster.seeds], options);
    clients.push(client);
    return client;
  }

  /** A sharded subscriber following a channel on each of two shards, and a publisher. */
  async function subscribeOnTwoShards(tag: string) {
    const [a, b] = await onDistinctShards(cluster, 2, (i) => `{${tag}${i}}:ch`);
    assert.ok(a && b);
    const subscriber = connect({ shardedSubscribers: true });
    const seen = recordSubscriber(subscriber);
    await subscriber.ssubscribe(a.name);
    await subscriber.ssubscribe(b.name);
    return { a, b, subscriber, seen, publisher: connect() };
  }

  test('SSUBSCRIBE on two shards receives SPUBLISH from another client and from a Lua script in the channel\'s slot', async () => {
    const { a, b, subscriber, seen, publisher } = await subscribeOnTwoShards('c');
    // One SSUBSCRIBE may name only channels of one slot: a gateway subscribes slot by slot.
    await assert.rejects(subscriber.ssubscribe(a.name, b.name), /CROSSSLOT/);

    assert.equal(await publisher.spublish(a.name, 'a from a client'), 1);
    assert.equal(await publisher.spublish(b.name, 'b from a client'), 1);
    // The drain script's way: the channel shares the hash tag of a key the script declares.
    const publishFromLua = "return redis.call('SPUBLISH', ARGV[1], ARGV[2])";
    const tagOf = (channel: string) => channel.slice(0, channel.indexOf('}') + 1);
    assert.equal(await publisher.eval(publishFromLua, 1, `${tagOf(a.name)}:x`, a.name, 'a from Lua'), 1);
    assert.equal(await publisher.eval(publishFromLua, 1, `${tagOf(b.name)}:x`, b.name, 'b from Lua'), 1);
    // A script runs on the shard of its keys; a channel served by another shard is refused.
    await assert.rejects(
      publisher.eval(publishFromLua, 1, `${tagOf(b.name)}:x`, a.name, 'never sent'),
      /non local key/,
    );

    const expected = [
      [a.name, 'a from a client'],
      [b.name, 'b from a client'],
      [a.name, 'a from Lua'],
      [b.name, 'b from Lua'],
    ] as const;
    await waitFor(
      () => expected.every(([channel, message]) => seen.received(channel, message)),
      'every smessage',
      5_000,
      () => JSON.stringify(seen.messages),
    );
    assert.equal(seen.messages.length, expected.length, 'each message once, nothing else');
    assert.ok(seen.buffers.every(({ channel, message }) => Buffer.isBuffer(channel) && Buffer.isBuffer(message)));
    assert.deepEqual(
      seen.buffers.map(({ channel, message }) => [channel.toString(), message.toString()]),
      seen.messages.map(({ channel, message }) => [channel, message]),
      'smessageBuffer carries the same messages as bytes',
    );
  });

  test('after kill -9 of the master serving a subscribed channel, its replica takes over and ioredis subscribes there by itself', async (t) => {
    const { a, b, seen, publisher } = await subscribeOnTwoShards('f');
    assert.equal(await publisher.spublish(a.name, 'before'), 1);
    await waitFor(() => seen.received(a.name, 'before'), 'the message before the kill', 5_000);

    const before = await cluster.topology();
    const victim = before.find((node) => node.port === a.port);
    assert.ok(victim);
    const killedAt = Date.now();
    await cluster.kill(a.port);
    const eventsBeforeKill = seen.events.length;

    // A publisher keeps sending on the channel, as the worker would, until one tick gets through.
    const ticks = { sent: 0, failed: [] as string[], unheard: 0, firstHeardAfterMs: undefined as number | undefined };
    const ticking = (async () => {
      while (ticks.firstHeardAfterMs === undefined && Date.now() - killedAt < 15_000) {
        const tick = `tick-${ticks.sent++}`;
        try {
          if ((await publisher.spublish(a.name, tick)) === 0) ticks.unheard += 1;
        } catch (error) {
          ticks.failed.push((error as Error).message.slice(0, 80));
        }
        const heard = seen.messages.find((entry) => entry.channel === a.name && entry.message.startsWith('tick-'));
        if (heard) ticks.firstHeardAfterMs = heard.at - killedAt;
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const failover = await cluster.waitForFailover(a.port, 15_000);
    await ticking;
    assert.ok(
      before.some((node) => node.role === 'replica' && node.masterId === victim.id && node.port === failover.promoted.port),
      `the promoted node ${failover.promoted.port} was a replica of ${a.port}`,
    );
    assert.notEqual(ticks.firstHeardAfterMs, undefined, `no tick was heard: ${JSON.stringify(ticks)}`);

    // Without any SSUBSCRIBE from the test, messages on both shards arrive again.
    assert.equal(await publisher.spublish(a.name, 'after failover'), 1);
    assert.equal(await publisher.spublish(b.name, 'other shard after failover'), 1);
    await waitFor(
      () => seen.received(a.name, 'after failover') && seen.received(b.name, 'other shard after failover'),
      'messages after the failover',
      5_000,
      () => JSON.stringify(seen.messages.slice(-5)),
    );

    // How ioredis got there, for whoever builds the gateway on it: it re-creates the subscriber of
    // the dead node in a loop (each failed connect an 'error' event on the Cluster), until the slot
    // map shows the promoted replica; then it subscribes there and emits 'subscribersReady'.
    const outage = seen.events.slice(eventsBeforeKill);
    const count = (name: string) => outage.filter((event) => event.name === name).length;
    assert.ok(count('error') > 0, 'the failed reconnects are reported as error events');
    const lastReady = outage.filter((event) => event.name === 'subscribersReady').at(-1);
    assert.ok(lastReady, 'subscribersReady after the failover');
    t.diagnostic(
      `failover of ${a.port} -> ${failover.promoted.port}: cluster healthy ${failover.afterMs} ms after kill -9; ` +
        `first tick heard ${ticks.firstHeardAfterMs} ms after kill; ticks sent ${ticks.sent}, failed ${ticks.failed.length} ` +
        `(${[...new Set(ticks.failed)].join(' | ')}), published to no subscriber ${ticks.unheard}`,
    );
    t.diagnostic(
      `ioredis events during the outage: ${count('error')} error, ${count('refresh')} refresh, ` +
        `${count('-subscriber')} -subscriber, ${count('+subscriber')} +subscriber, ${count('subscribersReady')} subscribersReady, ` +
        `${count('-node')} -node, ${count('+node')} +node; errors: ${[...new Set(outage.filter((e) => e.name === 'error').map((e) => e.detail))].join(' | ')}`,
    );
  });
});
