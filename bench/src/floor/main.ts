/**
 * Reference stacks for the chat workload's shape (1000 users with one socket each over 2
 * replicas, 200 conversations of 10, 64-byte messages, open-loop posts over 256 keep-alive
 * connections), measured like the product: `npm run bench:floor -- [--stack floor|socketio]
 * [--rate 1000] [--seconds 15]`.
 *
 * - `floor` (default): the thinnest stack the product's parts make: bare node:http and one Redis
 *   script per message (floor-api.ts), a redis-server configured as the bench's, and bare ws
 *   fan-out processes (floor-fanout.ts). What each process spends per message there is what this
 *   machine charges for the path itself (HTTP in, a durable write, a publish, ten socket writes
 *   out), before any of the product's guarantees.
 * - `socketio`: the deployment teams build instead, express + Socket.IO with its Redis adapter on
 *   as many processes as replicas, each taking posts (round robin) and holding sockets
 *   (socketio-peer.ts), storing each message with the same script.
 *
 * Run it beside `npm run bench -- --workloads chat` in the same sitting.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { io as connectSocketIo, type Socket as SocketIoSocket } from 'socket.io-client';
import { freePort, startRedisServer } from '@chat/devstack';
import { LatencySamples } from '../latency-samples.js';
import { messageText } from '../message-text.js';
import { CpuSampler, GENERATOR, type CpuUsage } from '../process-cpu.js';
import { RedisStats } from '../redis-stats.js';
import { sampleDistinct, seededRandom } from '../seeded-random.js';

const { values } = parseArgs({
  options: {
    stack: { type: 'string', default: 'floor' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '15' },
    'warmup-seconds': { type: 'string', default: '5' },
    users: { type: 'string', default: '1000' },
    conversations: { type: 'string', default: '200' },
    members: { type: 'string', default: '10' },
    replicas: { type: 'string', default: '2' },
    'message-bytes': { type: 'string', default: '64' },
    'http-max-sockets': { type: 'string', default: '256' },
    /** Each child writes a V8 CPU profile here when it stops (summarise: bench/src/summarize-profiles.ts). */
    profile: { type: 'string' },
  },
});
const number = (name: keyof typeof values) => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};
const STACKS = ['floor', 'socketio'] as const;
const stack = STACKS.find((name) => name === values.stack);
if (stack === undefined) throw new Error(`--stack must be one of ${STACKS.join(', ')}`);
const settings = {
  rate: number('rate'),
  seconds: number('seconds'),
  warmupSeconds: number('warmup-seconds'),
  users: number('users'),
  conversations: number('conversations'),
  members: number('members'),
  replicas: number('replicas'),
  messageBytes: number('message-bytes'),
  httpMaxSockets: number('http-max-sockets'),
};

/** The nonce of messageText(), in a floor frame (JSON) and in a Socket.IO message's text. */
const FRAME_NONCE = /"text":"n(\d+)\./;
const TEXT_NONCE = /^n(\d+)\./;
const START_TIMEOUT_MS = 15_000;
const DRAIN_MS = 3_000;

async function startChild(file: string, name: string, env: Record<string, string>): Promise<{ name: string; child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), {
    execArgv: ['--import', 'tsx', ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [])],
    env: { ...process.env, ...env, FLOOR_PORT: String(port), NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const listening = once(child, 'message');
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${name} did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS).unref());
  await Promise.race([listening, timeout]);
  return { name, child, port };
}

/** Posts due at start + i/rate, whatever the answers do; resolves once all were answered. */
async function postOpenLoop(seconds: number, post: (nonce: number) => Promise<void>, firstNonce: number): Promise<number> {
  const total = Math.round(settings.rate * seconds);
  const pending: Promise<void>[] = [];
  const started = performance.now();
  let issued = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * settings.rate) / 1000) + 1);
      for (; issued < due; issued += 1) pending.push(post(firstNonce + issued));
      if (issued >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  return total;
}

function perMessage(usage: CpuUsage, seconds: number, messages: number, names: string[]) {
  return names.map((name) => {
    const percent = usage.processes[name] ?? null;
    const ms = percent === null ? null : (percent / 100) * seconds * 1000 / messages;
    const syscalls = usage.syscallsPerSecond[name];
    return {
      name,
      ms: ms === null ? '–' : ms.toFixed(3),
      kernel: usage.kernelShare[name] == null ? '–' : `${Math.round((usage.kernelShare[name] as number) * 100)} %`,
      syscalls: syscalls == null ? '–' : ((syscalls * seconds) / messages).toFixed(1),
      msValue: ms ?? 0,
    };
  });
}

const redis = await startRedisServer({ appendOnly: true, appendFsync: 'everysec' });
const children: { name: string; child: ChildProcess; port: number }[] = [];
// Stopped from outside (Ctrl-C, a test's timeout): nothing it started may outlive it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const { child } of children) child.kill('SIGKILL');
    void redis.kill().finally(() => process.exit(130));
  });
}
const closers: (() => void)[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: settings.httpMaxSockets });
try {
  const env = { FLOOR_REDIS_URL: redis.url };
  // Posts go to postPorts in turn; user i's socket to socketPorts[i mod replicas].
  let postPorts: number[];
  let socketPorts: number[];
  if (stack === 'floor') {
    children.push(await startChild('./floor-api.ts', 'api', env));
    for (let i = 0; i < settings.replicas; i += 1) children.push(await startChild('./floor-fanout.ts', `fanout-${i}`, env));
    postPorts = [(children[0] as (typeof children)[number]).port];
    socketPorts = children.slice(1).map((child) => child.port);
  } else {
    for (let i = 0; i < settings.replicas; i += 1) children.push(await startChild('./socketio-peer.ts', `peer-${i}`, env));
    postPorts = children.map((child) => child.port);
    socketPorts = postPorts;
  }

  const random = seededRandom(1);
  const conversations = Array.from({ length: settings.conversations }, (_, i) => ({
    id: `c${i}`,
    members: sampleDistinct(settings.users, settings.members, random),
  }));
  const conversationsOf = new Map<number, string[]>();
  for (const conversation of conversations) {
    for (const member of conversation.members) conversationsOf.set(member, [...(conversationsOf.get(member) ?? []), conversation.id]);
  }

  const posted = new Map<number, number>();
  let latencies = new LatencySamples();
  let received = 0;
  const onNonce = (nonce: string | undefined) => {
    if (nonce === undefined) return;
    const sentAt = posted.get(Number(nonce));
    if (sentAt === undefined) return;
    received += 1;
    latencies.add(performance.now() - sentAt);
  };
  await Promise.all(
    Array.from({ length: settings.users }, async (_, user) => {
      const port = socketPorts[user % socketPorts.length] as number;
      const rooms = (conversationsOf.get(user) ?? []).join(',');
      if (stack === 'floor') {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/?c=${rooms}`, { perMessageDeflate: false });
        closers.push(() => socket.terminate());
        socket.on('message', (data: Buffer) => onNonce(FRAME_NONCE.exec(data.toString('utf8'))?.[1]));
        await once(socket, 'message');
      } else {
        const socket: SocketIoSocket = connectSocketIo(`http://127.0.0.1:${port}`, { transports: ['websocket'], query: { c: rooms }, forceNew: true, reconnection: false });
        closers.push(() => socket.disconnect());
        socket.on('message', (message: { text: string }) => onNonce(TEXT_NONCE.exec(message.text)?.[1]));
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
      }
    }),
  );

  let nextNonce = 0;
  const post = (nonce: number) =>
    new Promise<void>((resolve, reject) => {
      const conversation = conversations[Math.floor(random() * conversations.length)] as (typeof conversations)[number];
      const body = JSON.stringify({ text: messageText(nonce, settings.messageBytes) });
      posted.set(nonce, performance.now());
      const port = postPorts[nonce % postPorts.length] as number;
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: `/c/${conversation.id}`, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`POST answered ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const watched = [...children.map(({ name, child }) => ({ name, pid: child.pid })), { name: 'redis', pid: redis.pid }];
  const sampler = new CpuSampler(() => watched);
  const stats = new RedisStats([redis.url]);

  const runStep = async (seconds: number) => {
    latencies = new LatencySamples();
    received = 0;
    const cpuBefore = sampler.snapshot();
    const redisBefore = await stats.snapshot();
    const messages = await postOpenLoop(seconds, post, nextNonce);
    nextNonce += messages;
    const cpuAfter = sampler.snapshot();
    const redisAfter = await stats.snapshot();
    const expected = messages * settings.members;
    const drainUntil = performance.now() + DRAIN_MS;
    while (received < expected && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 20));
    return { messages, expected, received, latency: latencies.summary(), cpu: CpuSampler.usage(cpuBefore, cpuAfter), redis: RedisStats.perMessage(redisBefore, redisAfter, messages), seconds: (cpuAfter.at - cpuBefore.at) / 1000 };
  };

  if (settings.warmupSeconds > 0) await runStep(settings.warmupSeconds);
  const step = await runStep(settings.seconds);
  await stats.close();

  const services = [...children.map(({ name }) => name), 'redis'];
  const rows = perMessage(step.cpu, step.seconds, step.messages, [...services, GENERATOR]);
  const servicesMs = rows.filter((row) => row.name !== GENERATOR).reduce((sum, row) => sum + row.msValue, 0);
  const lines = [
    `# ${stack === 'floor' ? 'The floor' : 'Socket.IO peer'}: ${settings.rate} msg/s for ${settings.seconds} s`,
    '',
    `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, node ${process.version}. ${settings.users} sockets over ${settings.replicas} ${stack === 'floor' ? 'fan-out' : 'Socket.IO'} processes, ${settings.conversations} conversations of ${settings.members}, ${settings.messageBytes}-byte messages, ${settings.httpMaxSockets} keep-alive connections.`,
    '',
    `Delivered ${step.received} of ${step.expected}; delivery latency p50 ${step.latency.p50.toFixed(1)} ms, p99 ${step.latency.p99.toFixed(1)} ms, max ${step.latency.max.toFixed(1)} ms. Redis commands per message ${step.redis.commandsPerMessage} (incl. inside scripts).`,
    '',
    '| process | CPU ms per message | kernel share | read/write syscalls per message |',
    '|---|---:|---:|---:|',
    ...rows.map((row) => `| ${row.name} | ${row.ms} | ${row.kernel} | ${row.syscalls} |`),
    `| **services (all but the generator)** | **${servicesMs.toFixed(3)}** | | |`,
  ];
  console.log(lines.join('\n'));
  if (step.received !== step.expected) process.exitCode = 1;
} finally {
  for (const close of closers) close();
  agent.destroy();
  for (const { child } of children) child.kill('SIGTERM');
  await redis.dispose();
}
