import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { freePort, redisReachable, startRedisServer, type RedisServerHandle } from '@chat/devstack';

/** One short-lived connection per use, so nothing reconnects in the background while Redis is down. */
async function withRedis<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await redis.connect();
  try {
    return await use(redis);
  } finally {
    await redis.quit();
  }
}

describe('startRedisServer', () => {
  const servers: RedisServerHandle[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.dispose()));
  });

  test('starts on a free port with the expected settings and answers PING', async () => {
    const server = await startRedisServer({});
    servers.push(server);
    assert.equal(server.url, `redis://127.0.0.1:${server.port}`);
    assert.equal(await redisReachable(server.url, 1000), true);
    const settings = await withRedis(server.url, async (redis) => ({
      appendonly: await redis.config('GET', 'appendonly'),
      policy: await redis.config('GET', 'maxmemory-policy'),
      dir: await redis.config('GET', 'dir'),
      save: await redis.config('GET', 'save'),
    }));
    assert.deepEqual(settings.appendonly, ['appendonly', 'yes']);
    assert.deepEqual(settings.policy, ['maxmemory-policy', 'noeviction']);
    assert.deepEqual(settings.dir, ['dir', server.dir]);
    assert.deepEqual(settings.save, ['save', '']);
  });

  test('stop is graceful, idempotent, and the AOF brings the data back on restart', async () => {
    const server = await startRedisServer({ appendFsync: 'everysec' });
    servers.push(server);
    await withRedis(server.url, (redis) => redis.set('greeting', 'hello'));
    await server.stop();
    await server.stop();
    assert.equal(await redisReachable(server.url, 500), false);
    await server.restart();
    assert.equal(await withRedis(server.url, (redis) => redis.get('greeting')), 'hello');
  });

  test('after kill, restart on the same port and dir keeps what was fsynced', async () => {
    const server = await startRedisServer({ appendFsync: 'always' });
    servers.push(server);
    const firstPid = server.pid;
    await withRedis(server.url, (redis) => redis.rpush('events', 'a', 'b', 'c'));
    await server.kill();
    assert.equal(await redisReachable(server.url, 500), false);
    await server.restart();
    assert.notEqual(server.pid, firstPid);
    assert.deepEqual(await withRedis(server.url, (redis) => redis.lrange('events', 0, -1)), ['a', 'b', 'c']);
  });

  test('a server that cannot start fails loudly with its own output', async () => {
    await assert.rejects(
      startRedisServer({ extraArgs: ['--no-such-directive', 'x'] }),
      (error: Error) => /exited during start-up/.test(error.message) && /no-such-directive/i.test(error.message),
    );
  });
});

describe('redisReachable', () => {
  const servers: RedisServerHandle[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.dispose()));
  });

  test('is false where nothing listens', async () => {
    assert.equal(await redisReachable(`redis://127.0.0.1:${await freePort()}`, 500), false);
  });

  test('sends AUTH when the URL has a password', async () => {
    const server = await startRedisServer({ extraArgs: ['--requirepass', 'open-sesame'] });
    servers.push(server);
    assert.equal(await redisReachable(server.url, 1000), false, 'NOAUTH must not count as reachable');
    assert.equal(await redisReachable(`redis://:open-sesame@127.0.0.1:${server.port}`, 1000), true);
    assert.equal(await redisReachable(`redis://default:open-sesame@127.0.0.1:${server.port}/0`, 1000), true);
    assert.equal(await redisReachable(`redis://:wrong@127.0.0.1:${server.port}`, 1000), false);
  });

  test('a password sent to a server without one still counts as reachable', async () => {
    const server = await startRedisServer({});
    servers.push(server);
    assert.equal(await redisReachable(`redis://:unneeded@127.0.0.1:${server.port}`, 1000), true);
  });
});
