import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startService, type ServiceHandle } from '@chat/devstack';
import { TINY_SERVICE } from '../support/tiny-service.js';

describe('startService', () => {
  let dir: string;
  let script: string;
  const services: ServiceHandle[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'devstack-service-'));
    script = join(dir, 'tiny-service.mjs');
    await writeFile(script, TINY_SERVICE);
  });
  after(async () => {
    await Promise.all(services.map((service) => service.kill()));
    await rm(dir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>, extra: { startTimeoutMs?: number } = {}): Promise<ServiceHandle> {
    const port = await freePort();
    const service = await startService({
      name: 'tiny',
      script,
      env: { PORT: String(port), ...env },
      healthUrl: `http://127.0.0.1:${port}/healthz`,
      ...extra,
    });
    services.push(service);
    return service;
  }

  test('resolves once /healthz answers 200, with only the given env over PATH/HOME/NODE_ENV', async () => {
    process.env.DEVSTACK_TEST_LEAK = 'should not reach the child';
    try {
      const service = await start({ GREETING: 'hello' });
      assert.ok(service.pid > 0);
      // /healthz can answer before the child's first stdout line has come through the pipe.
      for (let attempt = 0; attempt < 100 && !service.output().includes('\n'); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const firstLine = service.output().split('\n')[0] ?? '';
      assert.deepEqual(JSON.parse(firstLine), { greeting: 'hello', hasPath: true, leaked: null });
      assert.equal(await service.stop(), 0);
      assert.equal(await service.stop(), 0, 'a second stop answers the same');
      assert.deepEqual(await service.exited, { code: 0, signal: null });
      assert.match(service.output(), /tiny stopping/);
    } finally {
      delete process.env.DEVSTACK_TEST_LEAK;
    }
  });

  test('a service that exits during start-up rejects with its exit code and last output', async () => {
    await assert.rejects(start({ FAIL_AT_START: 'no database' }), (error: Error) => {
      assert.match(error.message, /exited during start-up \(exit code 3\)/);
      assert.match(error.message, /cannot start: no database/);
      return true;
    });
  });

  test('a service that never becomes healthy is killed after the start timeout', async () => {
    await assert.rejects(start({ NEVER_LISTEN: '1' }, { startTimeoutMs: 300 }), /did not answer 200 .* within 300 ms/);
  });

  test('stop SIGKILLs a service that ignores SIGTERM past the timeout', async () => {
    const service = await start({ IGNORE_SIGTERM: '1' });
    assert.equal(await service.stop('SIGTERM', 300), null);
    assert.deepEqual(await service.exited, { code: null, signal: 'SIGKILL' });
    assert.match(service.output(), /ignoring SIGTERM/);
  });

  test('kill ends it at once', async () => {
    const service = await start({});
    await service.kill();
    assert.deepEqual(await service.exited, { code: null, signal: 'SIGKILL' });
    assert.equal(await service.stop(), null, 'stop after kill resolves at once');
  });
});
