import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startService, superviseService, type ServiceHandle, type SupervisedService, type SupervisorEvent } from '@chat/devstack';
import { TINY_SERVICE } from '../support/tiny-service.js';
import { waitFor } from '../support/wait-for.js';

describe('superviseService', () => {
  let dir: string;
  let script: string;
  const handles: ServiceHandle[] = [];
  const supervised: SupervisedService[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'devstack-supervisor-'));
    script = join(dir, 'tiny-service.mjs');
    await writeFile(script, TINY_SERVICE);
  });
  after(async () => {
    await Promise.all(supervised.map((service) => service.stop()));
    await Promise.all(handles.map((handle) => handle.kill()));
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A supervised tiny service on a free port; `starts` counts every start, the first included, and
   * `counts` holds the restart count each restart was given.
   */
  async function supervise(env: Record<string, string>, limits: { maxRestarts?: number; windowMs?: number } = {}) {
    const port = await freePort();
    const events: SupervisorEvent[] = [];
    const counts: number[] = [];
    let starts = 0;
    const start = async (restarts = 0) => {
      starts += 1;
      if (starts > 1) counts.push(restarts);
      const handle = await startService({ name: 'tiny', script, env: { PORT: String(port), ...env }, healthUrl: `http://127.0.0.1:${port}/healthz` });
      handles.push(handle);
      return handle;
    };
    const service = superviseService({
      name: 'tiny',
      start,
      first: await start(),
      onEvent: (event) => events.push(event),
      initialDelayMs: 20,
      maxDelayMs: 100,
      ...limits,
    });
    supervised.push(service);
    return { service, events, port, counts, starts: () => starts };
  }

  async function answers(port: number): Promise<boolean> {
    try {
      return (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) })).status === 200;
    } catch {
      return false;
    }
  }

  test('a service killed with SIGKILL is started again and serves on its port', async () => {
    const { service, events, port } = await supervise({});
    const first = service.current();
    await first.kill();
    await waitFor(() => events.some((event) => event.kind === 'restarted'), 'the restart', 10_000, () => JSON.stringify(events));
    const [died, restarted] = events;
    assert.equal(died?.kind, 'died');
    assert.equal(died.kind === 'died' && died.signal, 'SIGKILL');
    assert.equal(restarted?.kind, 'restarted');
    assert.notEqual(service.current().pid, first.pid);
    assert.equal(service.restarts(), 1);
    assert.equal(await answers(port), true);
    assert.equal(await service.stop(), 0, 'the restarted instance stops cleanly');
    assert.equal(await answers(port), false);
  });

  test('a crash loop is given up after maxRestarts deaths within the window, with no start after it', async () => {
    const { events, counts, starts } = await supervise({ DIE_AFTER_MS: '30' }, { maxRestarts: 2, windowMs: 30_000 });
    await waitFor(() => events.some((event) => event.kind === 'gave-up'), 'giving up', 15_000, () => JSON.stringify(events));
    assert.deepEqual(
      events.map((event) => event.kind),
      ['died', 'restarted', 'died', 'restarted', 'gave-up'],
    );
    const startsWhenGivenUp = starts();
    assert.equal(startsWhenGivenUp, 3, 'the first start and two restarts');
    assert.deepEqual(counts, [1, 2], 'each restart is told how many restarts came before it, itself included');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(starts(), startsWhenGivenUp, 'nothing is started after giving up');
  });

  test('the delay doubles per death, up to the maximum', async () => {
    const { events } = await supervise({ DIE_AFTER_MS: '10' }, { maxRestarts: 4, windowMs: 30_000 });
    await waitFor(() => events.some((event) => event.kind === 'gave-up'), 'giving up', 15_000, () => JSON.stringify(events));
    const delays = events.flatMap((event) => (event.kind === 'died' ? [event.restartInMs] : []));
    assert.deepEqual(delays, [20, 40, 80, 100]);
  });

  test('stop() while a restart is pending cancels it and leaves nothing running', async () => {
    const { service, events, port, starts } = await supervise({});
    await service.current().kill();
    await waitFor(() => events.some((event) => event.kind === 'died'), 'the death', 5_000);
    await service.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(starts(), 1, 'no restart after stop()');
    assert.equal(await answers(port), false);
    assert.deepEqual(
      events.map((event) => event.kind),
      ['died'],
    );
  });
});
