import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { connectRedis, createKeys, observeStoreEpoch, waitForRedis, type Redis } from '@chat/store';

// The epoch must change exactly when history may have gone backwards: a restart of a Redis that
// does not fsync every write. A gateway observes it as soon as its subscriber is back, which is
// while its command connection may still be completing its handshake: that timing is the one
// these tests reproduce.

const keys = createKeys('epochtest');
let server: RedisServerHandle | undefined;
const connections: Redis[] = [];

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.disconnect();
  await server?.dispose();
  server = undefined;
});

function connect(role: 'command' | 'subscriber', url: string): Redis {
  const connection = connectRedis({ url, name: `epochtest:${role}`, role });
  connection.on('error', () => undefined);
  connections.push(connection);
  return connection;
}

/** Observes the epoch as a gateway does after an outage: on the subscriber's `ready`, retrying while unavailable. */
async function epochsAcrossRestarts(restarts: number): Promise<string[]> {
  assert.ok(server);
  const command = connect('command', server.url);
  const subscriber = connect('subscriber', server.url);
  await waitForRedis(command, 10_000);
  await waitForRedis(subscriber, 10_000);
  await subscriber.subscribe('epochtest:anything');
  const epochs = [await observeStoreEpoch(command, keys)];
  for (let restart = 0; restart < restarts; restart += 1) {
    const observed = new Promise<string>((resolve, reject) => {
      subscriber.once('ready', async () => {
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline) {
          try {
            return resolve(await observeStoreEpoch(command, keys));
          } catch {
            await new Promise((wait) => setTimeout(wait, 10));
          }
        }
        reject(new Error('no epoch within 5 s of the subscriber coming back'));
      });
    });
    await server.kill();
    await server.restart();
    epochs.push(await observed);
  }
  return epochs;
}

describe('store epoch across Redis restarts', () => {
  test('stays the same when Redis fsyncs every write, however the reconnects interleave', async () => {
    server = await startRedisServer({ appendOnly: true, appendFsync: 'always' });
    const epochs = await epochsAcrossRestarts(12);
    assert.deepEqual(new Set(epochs), new Set([epochs[0]]), `epochs seen: ${epochs.join(', ')}`);
  });

  test('changes on every restart when Redis fsyncs only every second', async () => {
    server = await startRedisServer({ appendOnly: true, appendFsync: 'everysec' });
    const epochs = await epochsAcrossRestarts(3);
    assert.equal(new Set(epochs).size, epochs.length, `epochs seen: ${epochs.join(', ')}`);
  });

  test('changes on restart when Redis will not say how it fsyncs (CONFIG renamed away)', async () => {
    server = await startRedisServer({ appendOnly: true, appendFsync: 'always', extraArgs: ['--rename-command', 'CONFIG', '""'] });
    const epochs = await epochsAcrossRestarts(1);
    assert.notEqual(epochs[1], epochs[0]);
  });
});
