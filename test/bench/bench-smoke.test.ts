import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * CI keeps the benchmark working: `npm run bench -- --smoke` (a few seconds of tiny workloads)
 * must finish, write its report, and have delivered every message it posted. It checks that the
 * benchmark works, never how fast anything is.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUN_LIMIT_MS = 60_000;

interface StepLike {
  name: string;
  posts: { accepted: number };
  deliveries: { expected: number; received: number; lost: number; duplicated: number };
  redis?: { byProcess?: Record<string, { requests: number; received: number }> };
}

interface RampLike {
  warmup: StepLike | null;
  steps: StepLike[];
}

interface ReportLike {
  workloads: {
    chat?: RampLike;
    bigroom?: RampLike;
    idle?: { sockets: number; connectsPerSecond: number };
    writes?: { posts: { accepted: number }; acceptedPerSecond: number };
  };
  errors: { workload: string; message: string }[];
  interrupted: boolean;
}

let child: ChildProcess | undefined;
let outDir: string | undefined;

after(async () => {
  // SIGTERM lets the benchmark stop its stack; a second one makes it exit at once, and its exit
  // hook kills every process it started.
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const exited = new Promise((resolveExit) => child?.once('exit', resolveExit));
    const timer = setTimeout(() => child?.kill('SIGTERM'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

function runSmoke(out: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolveRun, rejectRun) => {
    const started = spawn(process.execPath, ['--import', 'tsx', 'bench/src/main.ts', '--smoke', '--out', out], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let output = '';
    started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      started.kill('SIGTERM');
      rejectRun(new Error(`the smoke benchmark did not finish within ${RUN_LIMIT_MS} ms; its output:\n${output}`));
    }, RUN_LIMIT_MS);
    started.on('error', (error) => {
      clearTimeout(timer);
      rejectRun(error);
    });
    started.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, output });
    });
  });
}

function checkRamp(name: string, ramp: RampLike | undefined, output: string): void {
  assert.ok(ramp, `report.json has no ${name} workload\n${output}`);
  assert.ok(ramp.steps.length > 0, `${name} ran no step`);
  for (const step of [...(ramp.warmup ? [ramp.warmup] : []), ...ramp.steps]) {
    assert.ok(step.posts.accepted > 0, `${step.name}: no post accepted`);
    assert.ok(step.deliveries.received > 0, `${step.name}: nothing delivered`);
    assert.equal(step.deliveries.lost, 0, `${step.name}: ${step.deliveries.lost} deliveries lost`);
    assert.equal(step.deliveries.duplicated, 0, `${step.name}: duplicated deliveries`);
    assert.equal(step.deliveries.received, step.deliveries.expected, `${step.name}: received ≠ expected`);
    // Redis round trips split by service (from `ss`, which .ci/run installs): the api and the
    // worker talk to Redis for every message; a gateway only receives pub/sub, and a request per
    // delivery (several per message) would show as ≥ 1 here.
    const byProcess = step.redis?.byProcess;
    assert.ok(byProcess, `${step.name}: no Redis traffic by service in the report`);
    assert.ok((byProcess.api?.requests ?? 0) > 0 && (byProcess.worker?.requests ?? 0) > 0, `${step.name}: ${JSON.stringify(byProcess)}`);
    const gateways = Object.entries(byProcess).filter(([name]) => name.startsWith('gateway'));
    assert.ok(gateways.length > 0, `${step.name}: no gateway in ${JSON.stringify(byProcess)}`);
    for (const [name, traffic] of gateways) {
      assert.ok(traffic.requests < 0.5, `${step.name}: ${name} sent ${traffic.requests} Redis requests per message`);
      assert.ok(traffic.received > 0, `${step.name}: ${name} received no pub/sub`);
    }
  }
}

test('npm run bench -- --smoke runs every workload and delivers everything it posts', { timeout: RUN_LIMIT_MS + 30_000 }, async () => {
  outDir = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
  const run = await runSmoke(outDir);
  assert.equal(run.code, 0, `the smoke benchmark exited with ${run.signal ?? run.code}; its output:\n${run.output}`);

  const report = JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8')) as ReportLike;
  assert.deepEqual(report.errors, [], run.output);
  assert.equal(report.interrupted, false);
  checkRamp('chat', report.workloads.chat, run.output);
  checkRamp('bigroom', report.workloads.bigroom, run.output);
  const { idle, writes } = report.workloads;
  assert.ok(idle, `report.json has no idle workload\n${run.output}`);
  assert.ok(idle.sockets > 0 && idle.connectsPerSecond > 0, 'idle: no socket connected');
  assert.ok(writes, `report.json has no writes workload\n${run.output}`);
  assert.ok(writes.posts.accepted > 0, 'writes: no post accepted');

  await access(join(outDir, 'summary.md'));
  const svg = await readFile(join(outDir, 'latency.svg'), 'utf8');
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<polyline /, 'the chart draws the latency curves');
});
