import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { LUA_DIR, connectRedis, createKeys, createRateLimiter, loadLuaScript, waitForRedis } from '@chat/store';
import { Redis } from 'ioredis';

const scriptFiles = readdirSync(LUA_DIR)
  .filter((name) => name.endsWith('.lua'))
  .map((name) => name.slice(0, -'.lua'.length));

describe('Lua scripts (packages/store/lua)', () => {
  test('are found', () => {
    assert.ok(scriptFiles.includes('deliver-message-4'), scriptFiles.join(', '));
  });

  for (const file of scriptFiles) {
    test(`${file}.lua loads with its includes inlined once, and its header states exactly its KEYS`, () => {
      const { name, numberOfKeys, lua } = loadLuaScript(file);
      assert.match(name, /^[a-z]+(?:[A-Z][a-z]+)+$/, 'camelCase, never a one-word name an ioredis command could have');
      assert.equal(numberOfKeys, Number(/-(\d+)$/.exec(file)?.[1]));
      assert.doesNotMatch(lua, /@include/);
      for (const fn of lua.matchAll(/^local function (\w+)/gm)) {
        assert.equal(lua.split(`local function ${fn[1]}(`).length, 2, `${fn[1]} is defined once`);
      }
      const header = /^--\[\[([\s\S]*?)\]\]/.exec(lua)?.[1] ?? '';
      assert.match(header, /Input:/);
      assert.match(header, /Output:/);
      const declared = [...header.matchAll(/KEYS\[(\d+)(?:\.\.(\d+))?\]/g)].map((m) => Number(m[2] ?? m[1]));
      assert.equal(Math.max(...declared), numberOfKeys);
    });
  }

  test('a missing script fails when it is loaded, naming the file', () => {
    assert.throws(() => loadLuaScript('no-such-script-1'), /no-such-script-1\.lua/);
  });
});

describe('Lua scripts on an auto-pipelining connection', () => {
  let server: RedisServerHandle;
  const connections: Redis[] = [];
  const keys = createKeys('luatest');
  const rule = { scope: 'test', limit: 5, windowMs: 60_000 };

  before(async () => {
    server = await startRedisServer({});
  });
  after(async () => {
    for (const connection of connections) connection.disconnect();
    await server?.dispose();
  });

  async function connect(make: () => Redis): Promise<Redis> {
    const redis = make();
    connections.push(redis);
    await waitForRedis(redis, 10_000);
    return redis;
  }

  // An auto-pipeline copies the scripts defined when it is created: a script first called while
  // one is pending must not land in it (ioredis would throw outside any promise and end the process).
  test('connectRedis defines them up front, so a first call beside pending commands runs', async () => {
    const redis = await connect(() => connectRedis({ url: server.url, name: 'test:command', role: 'command' }));
    const pending = redis.get(keys.rateCounter('test', 'nobody'));
    assert.ok(redis.autoPipelineQueueSize > 0, 'a command is pending in an auto-pipeline');
    const verdict = await createRateLimiter(redis, keys).hit(rule, 'ann');
    assert.deepEqual(verdict, { allowed: true, retryAfterSeconds: 60 });
    assert.equal(await pending, null);
  });

  test('another auto-pipelining connection defines a script on first use, or refuses plainly while a pipeline is pending', async () => {
    const redis = await connect(() => new Redis(server.url, { enableAutoPipelining: true }));
    const pending = redis.get(keys.rateCounter('test', 'nobody'));
    await assert.rejects(createRateLimiter(redis, keys).hit(rule, 'bob'), /count-rate-hit-1\.lua is not defined on this auto-pipelining connection/);
    await pending;
    assert.equal((await createRateLimiter(redis, keys).hit(rule, 'bob')).allowed, true);
    assert.equal((await createRateLimiter(redis, keys).hit(rule, 'bob')).allowed, true);
  });
});
