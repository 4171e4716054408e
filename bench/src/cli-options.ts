import { parseArgs } from 'node:util';

export const WORKLOADS = ['chat', 'bigroom', 'idle', 'writes'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface BenchOptions {
  smoke: boolean;
  workloads: WorkloadName[];
  seed: number;
  out: string | undefined;
  profile: boolean;

  /** Stack: start one (default) or point at one. */
  target: string | undefined;
  gatewayUrls: string[];
  redisUrl: string | undefined;
  pids: Record<string, number>;
  gatewayReplicas: number;
  serviceEnv: Record<string, string>;

  /** Generator. */
  httpMaxSockets: number;
  maxInFlight: number;
  tickMs: number;
  registerConcurrency: number;
  connectConcurrency: number;
  messageBytes: number;
  warmupSeconds: number;
  drainIdleMs: number;
  drainMaxMs: number;
  /** Consecutive unsustainable steps after which a ramp stops (0: run every step). */
  stopAfterFailures: number;

  /** chat */
  users: number;
  conversations: number;
  members: number;
  steps: number[];
  stepSeconds: number;
  chatP99Ms: number;

  /** big room */
  bigroomMembers: number;
  bigroomSteps: number[];
  bigroomP99Ms: number;

  /** idle sockets */
  idleSockets: number;

  /** writes */
  writesSeconds: number;
  writesConcurrency: number;
}

export const USAGE = `npm run bench -- [options]

Drives a chat stack through its public contract (REST + WebSocket) and reports throughput,
delivery latency, losses, CPU per process and Redis commands per message.
Writes bench-results/<timestamp>/{report.json,summary.md,latency.svg}.

  --smoke                    a tiny run (< 40 s) that only checks the benchmark works
  --workloads LIST           chat,bigroom,idle,writes (default: all)
  --out DIR                  where to write the report (default bench-results/<ISO time>)
  --seed N                   random seed for conversation membership (default 1)
  --profile                  run the services with --cpu-prof; summarise the profiles at the end

 stack (default: a private one on free ports, redis-server with AOF everysec)
  --gateway-replicas N       gateway processes (default 2)
  --env KEY=VALUE            extra environment for every service (repeatable)
  --target URL               use a running stack: the api's (or the edge's) http:// URL
  --gateways LIST            with --target: ws://host:port/ws of each gateway replica
  --redis URL                with --target: its Redis, for commands per message
  --pid NAME=PID             with --target: a process to report CPU for (repeatable)

 chat
  --users N                  users, one socket each (default 1000)
  --conversations N          conversations (default 200)
  --members N                members per conversation (default 10)
  --steps LIST               msg/s per step (default 250,500,1000,2000,3000,4000)
  --step-seconds N           length of every step (default 20)
  --chat-p99-ms N            sustainable only with delivery p99 at or below this (default 50)

 big room
  --bigroom-members N        members of the one conversation (default 1000)
  --bigroom-steps LIST       msg/s per step (default 25,50,100,150,200)
  --bigroom-p99-ms N         (default 100)

 idle sockets
  --idle-sockets N           sockets on one fresh gateway replica (default 20000)

 writes
  --writes-seconds N         (default 20)
  --writes-concurrency N     POSTs in flight (default 64)

 generator
  --message-bytes N          text length (default 64)
  --warmup-seconds N         unreported warm-up before each ramp (default 5)
  --http-max-sockets N       keep-alive connections to the api (default 64)
  --max-in-flight N          unanswered POSTs beyond which a due post is skipped (default 2000)
  --connect-concurrency N    WebSocket handshakes at once (default 200)
  --register-concurrency N   registrations at once (default 32)
  --drain-idle-ms N          after a step, give up waiting when nothing arrived for this long (default 3000)
  --drain-max-ms N           and after this long in any case (default 30000)
  --stop-after-failures N    stop a ramp after N unsustainable steps in a row; 0 = never (default 2)
`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

function positive(name: string, value: string | undefined, fallback: number, { allowZero = false } = {}): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || (!allowZero && parsed === 0)) throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number (got "${value}")`);
  return parsed;
}

function integer(name: string, value: string | undefined, fallback: number, options: { allowZero?: boolean } = {}): number {
  const parsed = positive(name, value, fallback, options);
  if (!Number.isInteger(parsed)) throw new UsageError(`--${name} must be a whole number (got "${value}")`);
  return parsed;
}

function rates(name: string, value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  const list = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (list.length === 0) throw new UsageError(`--${name} needs at least one rate`);
  return list.map((item) => positive(name, item, 0));
}

function keyValues(name: string, values: string[] | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of values ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${name} takes NAME=VALUE (got "${item}")`);
    result[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return result;
}

/** Reads the command line; throws UsageError with a message for a person. */
export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      smoke: { type: 'boolean' },
      workloads: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      profile: { type: 'boolean' },
      target: { type: 'string' },
      gateways: { type: 'string' },
      redis: { type: 'string' },
      pid: { type: 'string', multiple: true },
      'gateway-replicas': { type: 'string' },
      env: { type: 'string', multiple: true },
      users: { type: 'string' },
      conversations: { type: 'string' },
      members: { type: 'string' },
      steps: { type: 'string' },
      'step-seconds': { type: 'string' },
      'chat-p99-ms': { type: 'string' },
      'bigroom-members': { type: 'string' },
      'bigroom-steps': { type: 'string' },
      'bigroom-p99-ms': { type: 'string' },
      'idle-sockets': { type: 'string' },
      'writes-seconds': { type: 'string' },
      'writes-concurrency': { type: 'string' },
      'message-bytes': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      'http-max-sockets': { type: 'string' },
      'max-in-flight': { type: 'string' },
      'tick-ms': { type: 'string' },
      'connect-concurrency': { type: 'string' },
      'register-concurrency': { type: 'string' },
      'drain-idle-ms': { type: 'string' },
      'drain-max-ms': { type: 'string' },
      'stop-after-failures': { type: 'string' },
    },
  });
  if (values.help) return 'help';
  const smoke = values.smoke === true;

  const workloads = (values.workloads ?? WORKLOADS.join(','))
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const workload of workloads) {
    if (!(WORKLOADS as readonly string[]).includes(workload)) throw new UsageError(`unknown workload "${workload}" (known: ${WORKLOADS.join(', ')})`);
  }

  const pidEntries = keyValues('pid', values.pid);
  const pids: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pidEntries)) pids[name] = integer('pid', pid, 0);

  if (values.target === undefined && (values.gateways !== undefined || values.redis !== undefined || values.pid !== undefined)) {
    throw new UsageError('--gateways, --redis and --pid only go with --target');
  }
  const gatewayUrls = (values.gateways ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (values.target !== undefined && gatewayUrls.length === 0) {
    const edge = new URL(values.target);
    edge.protocol = edge.protocol === 'https:' ? 'wss:' : 'ws:';
    edge.pathname = '/ws';
    gatewayUrls.push(edge.toString());
  }

  const options: BenchOptions = {
    smoke,
    workloads: workloads as WorkloadName[],
    seed: integer('seed', values.seed, 1, { allowZero: true }),
    out: values.out,
    profile: values.profile === true,
    target: values.target,
    gatewayUrls,
    redisUrl: values.redis,
    pids,
    gatewayReplicas: integer('gateway-replicas', values['gateway-replicas'], 2),
    serviceEnv: keyValues('env', values.env),
    httpMaxSockets: integer('http-max-sockets', values['http-max-sockets'], 64),
    maxInFlight: integer('max-in-flight', values['max-in-flight'], 2000),
    tickMs: integer('tick-ms', values['tick-ms'], 2),
    registerConcurrency: integer('register-concurrency', values['register-concurrency'], 32),
    connectConcurrency: integer('connect-concurrency', values['connect-concurrency'], 200),
    messageBytes: integer('message-bytes', values['message-bytes'], 64),
    warmupSeconds: positive('warmup-seconds', values['warmup-seconds'], smoke ? 1 : 5, { allowZero: true }),
    drainIdleMs: integer('drain-idle-ms', values['drain-idle-ms'], 3000),
    drainMaxMs: integer('drain-max-ms', values['drain-max-ms'], smoke ? 10_000 : 30_000),
    stopAfterFailures: integer('stop-after-failures', values['stop-after-failures'], 2, { allowZero: true }),
    users: integer('users', values.users, smoke ? 40 : 1000),
    conversations: integer('conversations', values.conversations, smoke ? 8 : 200),
    members: integer('members', values.members, 10),
    steps: rates('steps', values.steps, smoke ? [50, 100] : [250, 500, 1000, 2000, 3000, 4000]),
    stepSeconds: positive('step-seconds', values['step-seconds'], smoke ? 2 : 20),
    chatP99Ms: positive('chat-p99-ms', values['chat-p99-ms'], 50),
    bigroomMembers: integer('bigroom-members', values['bigroom-members'], smoke ? 40 : 1000),
    bigroomSteps: rates('bigroom-steps', values['bigroom-steps'], smoke ? [20] : [25, 50, 100, 150, 200]),
    bigroomP99Ms: positive('bigroom-p99-ms', values['bigroom-p99-ms'], 100),
    idleSockets: integer('idle-sockets', values['idle-sockets'], smoke ? 200 : 20_000),
    writesSeconds: positive('writes-seconds', values['writes-seconds'], smoke ? 2 : 20),
    writesConcurrency: integer('writes-concurrency', values['writes-concurrency'], 64),
  };
  if (options.members < 2) throw new UsageError('--members must be at least 2');
  if (options.members > options.users) throw new UsageError(`--members (${options.members}) cannot exceed --users (${options.users})`);
  if (options.bigroomMembers < 2 || options.bigroomMembers > 1000) throw new UsageError('--bigroom-members must be 2..1000 (the contract allows 1000 members)');
  if (options.target !== undefined && !/^https?:\/\//.test(options.target)) throw new UsageError('--target must be an http:// URL');
  // Profiling signals the services, which only the benchmark's own stack is prepared for.
  if (options.target !== undefined && options.profile) throw new UsageError('--profile only works with the stack the benchmark starts (not with --target)');
  return options;
}
