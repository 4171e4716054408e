import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portIsFree, repoRoot, waitForExit } from '@chat/devstack';
import { waitFor } from '../support/wait-for.js';

/** `npm start`'s supervisor as users run it (its built entry point), on free ports and its own data dir. */
describe('npm start (the local stack supervisor)', () => {
  let dir: string;
  let stack: ChildProcess;
  let exited: ReturnType<typeof waitForExit>;
  /** The stack's JSON log lines (its own and its services'). */
  const lines: Array<Record<string, unknown>> = [];
  let edgeUrl: string;
  let gatewayPorts: number[];
  let pids: Record<string, number>;

  /** Two ports in a row: the supervisor runs replica i on GATEWAY_BASE_PORT + i. */
  async function twoFreePortsInARow(): Promise<number> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const port = await freePort();
      if (await portIsFree(port + 1)) return port;
    }
    throw new Error('no two free ports in a row');
  }

  async function answers200(url: string): Promise<boolean> {
    try {
      return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).status === 200;
    } catch {
      return false;
    }
  }

  /** The value of `chat_service_restarts` on the /metrics of the service listening on `port`. */
  async function restartsOnMetrics(port: number | undefined): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const line = /^chat_service_restarts(?:\{[^}]*\})? (\S+)$/m.exec(text);
    assert.ok(line, `no chat_service_restarts on :${port}/metrics`);
    return Number(line[1]);
  }

  const logged = (message: string, service?: string) =>
    lines.some((line) => line.msg === message && (service === undefined || line.service === service));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stack-'));
    const [edgePort, apiPort, workerPort, redisPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const gatewayBase = await twoFreePortsInARow();
    gatewayPorts = [gatewayBase, gatewayBase + 1];
    edgeUrl = `http://127.0.0.1:${edgePort}`;
    stack = spawn(process.execPath, [join(repoRoot(), 'packages/devstack/dist/start-stack.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? dir,
        EDGE_PORT: String(edgePort),
        API_PORT: String(apiPort),
        WORKER_PORT: String(workerPort),
        GATEWAY_BASE_PORT: String(gatewayBase),
        GATEWAY_REPLICAS: '2',
        LOCAL_REDIS_PORT: String(redisPort),
        DATA_DIR: dir,
        LOG_LEVEL: 'info',
        PASSWORD_HASH_COST: '1024',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = waitForExit(stack);
    let pending = '';
    stack.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const text of complete) {
        try {
          lines.push(JSON.parse(text) as Record<string, unknown>);
        } catch {
          // Not a log line (e.g. redis-server's own output): not what these tests read.
        }
      }
    });
    stack.stderr?.resume();
    await waitFor(() => logged('stack ready: open ' + edgeUrl + '/ (Ctrl-C stops it)'), 'the stack to be ready', 60_000, () =>
      JSON.stringify(lines.slice(-5)),
    );
    pids = lines.find((line) => typeof line.msg === 'string' && line.msg.startsWith('stack ready'))?.pids as Record<string, number>;
  });

  after(async () => {
    if (stack.exitCode === null && stack.signalCode === null) {
      stack.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      stack.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('a gateway killed with SIGKILL is restarted on its port while the rest keeps serving', async () => {
    const victim = pids['gateway-0'];
    assert.ok(typeof victim === 'number' && victim > 0, `pids in the ready line: ${JSON.stringify(pids)}`);
    process.kill(victim, 'SIGKILL');
    await waitFor(() => logged('a service died; restarting it', 'gateway-0'), 'the death to be logged', 10_000);
    // The stack did not stop: the edge, the api behind it and the other replica still answer.
    assert.equal(await answers200(`${edgeUrl}/healthz`), true);
    assert.equal(await answers200(`http://127.0.0.1:${gatewayPorts[1]}/healthz`), true);
    const register = await fetch(`${edgeUrl}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'survivor', password: 'correct horse battery' }),
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(register.status, 201);

    await waitFor(() => logged('service restarted', 'gateway-0'), 'gateway-0 to be restarted', 15_000, () => JSON.stringify(lines.slice(-5)));
    const restarted = lines.find((line) => line.msg === 'service restarted' && line.service === 'gateway-0');
    assert.notEqual(restarted?.pid, victim);
    assert.equal(restarted?.restarts, 1);
    assert.equal(await answers200(`http://127.0.0.1:${gatewayPorts[0]}/healthz`), true);
    // Each instance shows on its own /metrics how many restarts came before it.
    assert.equal(await restartsOnMetrics(gatewayPorts[0]), 1, 'the restarted replica');
    assert.equal(await restartsOnMetrics(gatewayPorts[1]), 0, 'the replica that kept running');
    assert.equal(stack.exitCode, null, 'the supervisor still runs');
  });

  test('SIGTERM stops every service and Redis, and the supervisor exits 0', async () => {
    const running = lines
      .filter((line) => line.msg === 'service restarted' && typeof line.pid === 'number')
      .map((line) => line.pid as number)
      .concat(Object.entries(pids).filter(([name]) => name !== 'gateway-0').map(([, pid]) => pid));
    stack.kill('SIGTERM');
    const status = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000))]);
    assert.notEqual(status, 'timeout', 'the stack stopped within 30 s');
    assert.equal(status !== 'timeout' && status.code, 0);
    for (const pid of running) {
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `process ${pid} is gone`);
    }
    assert.equal(await answers200(`${edgeUrl}/healthz`), false);
  });
});
