/**
 * The load generator: `npm run bench -- [options]` (see cli-options.ts, or --help). Starts a
 * private stack (or uses --target), runs the workloads through the public contract only, and
 * writes report.json, summary.md and latency.svg.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { repoRoot } from '@chat/devstack';
import { ApiClient } from './api-client.js';
import { RAISED_RATE_LIMITS, ServiceDiedError, externalTarget, startOwnStack, type BenchTarget } from './bench-stack.js';
import { USAGE, UsageError, parseBenchOptions, type BenchOptions, type WorkloadName } from './cli-options.js';
import { CpuSampler } from './process-cpu.js';
import { ProfileWindows } from './profile-windows.js';
import { ProgressLine } from './progress-line.js';
import { RedisStats } from './redis-stats.js';
import { RedisSockets } from './redis-sockets.js';
import { checkTargets, type BenchReport } from './report/bench-report.js';
import { profileSummaryMarkdown, summarizeProfileDir } from './report/cpu-profile-summary.js';
import { latencyChartSvg, type ChartPanel } from './report/latency-chart.js';
import { markdownSummary } from './report/markdown-summary.js';
import type { RunContext } from './run-context.js';
import { seededRandom } from './seeded-random.js';
import { UserPool } from './user-pool.js';
import { runBigRoomWorkload } from './workloads/big-room.js';
import { runChatWorkload } from './workloads/chat.js';
import { runIdleSocketsWorkload } from './workloads/idle-sockets.js';
import { runSoakWorkload } from './workloads/soak.js';
import { runWritesWorkload } from './workloads/writes.js';

function readOptions(): BenchOptions {
  try {
    const parsed = parseBenchOptions(process.argv.slice(2));
    if (parsed === 'help') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    return parsed;
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw error;
  }
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch (error) {
    if (error instanceof Error) return null;
    throw error;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function stackNotes(options: BenchOptions, owned: boolean): string[] {
  const notes = [
    `All processes, the generator included, share this machine's ${cpus().length} CPU core(s); CPU% is per process, 100 = one core.`,
  ];
  if (owned) {
    notes.push(
      'PASSWORD_HASH_COST=1024 (scrypt N; the production default is 16384) so that registering thousands of users takes seconds; it only affects register/login, not the measured paths.',
      'Private redis-server with appendonly yes, appendfsync everysec (as shipped); services with LOG_LEVEL=warn, NODE_ENV=production.',
      `The api's rate limits are raised (${Object.entries(RAISED_RATE_LIMITS).map(([key, value]) => `${key}=${value}`).join(' ')}): all the load comes from one address and would otherwise be refused; the limiter's own Redis call per request still runs.`,
    );
  } else {
    notes.push('External stack: CPU is reported only for the pids given with --pid, Redis figures only with --redis.');
  }
  const env = Object.entries(options.serviceEnv);
  if (env.length > 0) notes.push(`Extra service environment: ${env.map(([key, value]) => `${key}=${value}`).join(' ')}.`);
  if (options.profile) notes.push('Services sampled their CPU (V8 profiler, 1 ms) during the measured steps, which costs a little: figures are slightly lower than without --profile.');
  if (options.smoke) notes.push('Smoke run: tiny sizes that only check the benchmark works; the figures mean nothing.');
  return notes;
}

const options = readOptions();
const startedAt = new Date();
const outDir = resolve(options.out ?? join(repoRoot(), 'bench-results', startedAt.toISOString().replace(/:/g, '-')));
await mkdir(outDir, { recursive: true });
const profileDir = options.profile ? join(outDir, 'profiles') : undefined;
const progress = new ProgressLine();
const abort = new AbortController();

let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupts += 1;
    if (interrupts === 1) {
      progress.log(`bench: ${signal}: finishing the current step, writing the report and stopping the stack (again to kill everything now)`);
      abort.abort();
    } else {
      // The devstack's exit hook SIGKILLs every process it started.
      process.exit(130);
    }
  });
}

progress.log(options.target ? `bench: using the stack at ${options.target}` : `bench: starting a stack with ${options.gatewayReplicas} gateway replica(s)`);
let target: BenchTarget;
try {
  target = options.target
    ? externalTarget({ apiUrl: options.target, wsUrls: options.gatewayUrls, redisUrl: options.redisUrl, pids: options.pids })
    : await startOwnStack({ gatewayReplicas: options.gatewayReplicas, env: options.serviceEnv, cpuProfileDir: profileDir, cluster: options.cluster });
} catch (error) {
  process.stderr.write(`bench: ${messageOf(error)}\n`);
  process.exit(1);
}

const api = new ApiClient(target.apiUrl, options.httpMaxSockets);
// On a cluster: every master's INFO, summed and per master (the per-service socket split reads one port, so it is left out).
const redisStats =
  target.redisMasters !== undefined
    ? new RedisStats(target.redisMasters)
    : target.redisUrl === undefined
      ? undefined
      : new RedisStats([target.redisUrl], new RedisSockets(Number(new URL(target.redisUrl).port || 6379), () => target.processes()));
let nonce = 0;
const ctx: RunContext = {
  options,
  target,
  api,
  users: new UserPool(api, randomBytes(3).toString('hex'), options.registerConcurrency, abort.signal),
  cpu: new CpuSampler(() => target.processes()),
  redisStats,
  progress,
  signal: abort.signal,
  nonces: { next: () => (nonce += 1) },
  random: seededRandom(options.seed),
  profiles: profileDir === undefined ? undefined : new ProfileWindows(() => target.processes()),
};

const runners: Record<WorkloadName, (context: RunContext) => Promise<unknown>> = {
  chat: runChatWorkload,
  bigroom: runBigRoomWorkload,
  idle: runIdleSocketsWorkload,
  writes: runWritesWorkload,
  soak: runSoakWorkload,
};

const workloads: BenchReport['workloads'] = {};
const errors: BenchReport['errors'] = [];
let redisVersion: string | null = null;
try {
  redisVersion = (await redisStats?.serverVersion()) ?? null;
} catch (error) {
  errors.push({ workload: 'setup', message: `cannot read INFO from ${target.redisUrl}: ${messageOf(error)}` });
}

let stackDied = false;
for (const name of options.workloads) {
  if (abort.signal.aborted || stackDied) break;
  progress.log(`== ${name}`);
  try {
    const result = await Promise.race([runners[name](ctx), target.died]);
    // Each runner returns its own report type; the record is keyed by workload name.
    (workloads as Record<string, unknown>)[name] = result;
  } catch (error) {
    const message = messageOf(error);
    errors.push({ workload: name, message });
    progress.log(`bench: ${name} failed: ${message}`);
    stackDied = error instanceof ServiceDiedError;
  }
}

progress.log('bench: stopping the stack');
api.close();
await redisStats?.close();
await target.stop().catch((error: unknown) => errors.push({ workload: 'teardown', message: messageOf(error) }));
progress.clear();

const processesSeen = new Map<number, string>();
for (const { name, pid } of target.everStarted()) if (pid !== undefined) processesSeen.set(pid, name);

let profilesFile: string | null = null;
if (profileDir !== undefined) {
  try {
    const steps = new Map((ctx.profiles?.windows ?? []).map((window) => [window.window, window.step]));
    const summaries = await summarizeProfileDir(profileDir, processesSeen, steps);
    profilesFile = join(outDir, 'profiles.md');
    await writeFile(profilesFile, profileSummaryMarkdown(summaries));
  } catch (error) {
    errors.push({ workload: 'profiles', message: messageOf(error) });
  }
}

const panels: ChartPanel[] = [];
if (workloads.chat) {
  panels.push({
    title: 'Chat: delivery latency vs achieved post rate',
    xLabel: 'achieved post rate, messages/s',
    x: (step) => step.achievedRate,
    steps: workloads.chat.steps,
    p99LimitMs: workloads.chat.criteria.p99Ms,
  });
}
if (workloads.bigroom) {
  panels.push({
    title: `Big room (${workloads.bigroom.setup.users} members): latency vs deliveries/s`,
    xLabel: 'deliveries per second',
    x: (step) => step.deliveredPerSecond,
    steps: workloads.bigroom.steps,
    p99LimitMs: workloads.bigroom.criteria.p99Ms,
  });
}
const chartFile = panels.length > 0 ? join(outDir, 'latency.svg') : null;
if (chartFile !== null) await writeFile(chartFile, latencyChartSvg(panels));

const finishedAt = new Date();
const cpuInfo = cpus();
const show = (file: string) => {
  const near = relative(process.cwd(), file);
  return near === '' || near.startsWith('..') ? file : near;
};
const report: BenchReport = {
  version: 1,
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
  argv: process.argv.slice(2),
  smoke: options.smoke,
  environment: {
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpus: cpuInfo.length,
    cpuModel: cpuInfo[0]?.model.trim() ?? 'unknown',
    memoryMB: Math.round(totalmem() / 1024 / 1024),
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
    gitCommit: gitCommit(),
    redisVersion,
  },
  stack: {
    owned: target.owned,
    apiUrl: target.apiUrl,
    gateways: target.gateways.map((gateway) => gateway.wsUrl),
    processes: [...processesSeen].map(([pid, name]) => ({ name, pid })),
    notes: stackNotes(options, target.owned),
  },
  options,
  registrations: ctx.users.registrations,
  workloads,
  targets: checkTargets({ workloads }),
  errors,
  interrupted: abort.signal.aborted,
  files: {
    json: show(join(outDir, 'report.json')),
    markdown: show(join(outDir, 'summary.md')),
    chart: chartFile === null ? null : show(chartFile),
    profiles: profilesFile === null ? null : show(profilesFile),
  },
};
const summary = markdownSummary(report);
await writeFile(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
await writeFile(join(outDir, 'summary.md'), summary);
process.stdout.write(`\n${summary}`);
if (errors.length > 0) process.stderr.write(`bench: ${errors.length} error(s); see ${report.files.markdown}\n`);
process.exit(errors.length > 0 || abort.signal.aborted ? 1 : 0);
