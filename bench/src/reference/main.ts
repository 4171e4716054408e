/**
 * Reference stacks for the chat workload's shape (1000 users with one socket each over 2
 * replicas, 200 conversations of 10, 64-byte messages, open-loop posts over 256 keep-alive
 * connections), measured like the product: `npm run bench:reference -- [--stack floor|socketio]
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
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { startRedisServer } from '@chat/devstack';
import { LatencySamples } from '../latency-samples.js';
import { messageText } from '../message-text.js';
import { openLoop } from '../open-loop.js';
import { CpuSampler } from '../process-cpu.js';
import { RedisStats } from '../redis-stats.js';
import { sampleDistinct, seededRandom } from '../seeded-random.js';
import { connectReferenceSocket } from './reference-clients.js';
import { referenceReport, type ReferenceStep } from './reference-report.js';
import { STACKS, startReferenceStack, type ReferenceProcess } from './reference-stacks.js';

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

const DRAIN_MS = 3_000;
/** How often the open loop sends what has come due. */
const TICK_MS = 1;

/** Posts on an open loop (open-loop.ts), numbered from firstNonce; resolves with the count once all were answered. */
async function postOpenLoop(seconds: number, post: (nonce: number) => Promise<void>, firstNonce: number): Promise<number> {
  const pending: Promise<void>[] = [];
  await openLoop({ rate: settings.rate, seconds, tickMs: TICK_MS }, (index) => pending.push(post(firstNonce + index)));
  await Promise.all(pending);
  return pending.length;
}

const redis = await startRedisServer({ appendOnly: true, appendFsync: 'everysec' });
const children: ReferenceProcess[] = [];
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
  const { processes, postPorts, socketPorts } = await startReferenceStack(stack, {
    redisUrl: redis.url,
    replicas: settings.replicas,
    profileDir: values.profile,
    started: children,
  });

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
      closers.push(await connectReferenceSocket(stack, port, conversationsOf.get(user) ?? [], onNonce));
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

  const watched = [...processes.map(({ name, child }) => ({ name, pid: child.pid })), { name: 'redis', pid: redis.pid }];
  const sampler = new CpuSampler(() => watched);
  const stats = new RedisStats([redis.url]);

  const runStep = async (seconds: number): Promise<ReferenceStep> => {
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

  const processNames = [...processes.map(({ name }) => name), 'redis'];
  const title = `${stack === 'floor' ? 'The floor' : 'Socket.IO peer'}: ${settings.rate} msg/s for ${settings.seconds} s`;
  const shape = `${settings.users} sockets over ${settings.replicas} ${stack === 'floor' ? 'fan-out' : 'Socket.IO'} processes, ${settings.conversations} conversations of ${settings.members}, ${settings.messageBytes}-byte messages, ${settings.httpMaxSockets} keep-alive connections.`;
  console.log(referenceReport(title, shape, step, processNames));
  if (step.received !== step.expected) process.exitCode = 1;
} finally {
  for (const close of closers) close();
  agent.destroy();
  for (const { child } of children) child.kill('SIGTERM');
  await redis.dispose();
}
