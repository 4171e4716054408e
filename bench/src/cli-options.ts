import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What a run does unless --workloads says otherwise. */
const DEFAULT_WORKLOADS = ['chat', 'bigroom', 'idle', 'writes'] as const;
/** Every workload; the soak (long) only when asked for. */
export const WORKLOADS = [...DEFAULT_WORKLOADS, 'soak'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** What the command line gives an option: nothing for a flag, a string, or every repeat of it. */
type Raw = string | boolean | (string | boolean)[];

/**
 * One command-line option. The table below is the only place an option is written down: the
 * parser, the defaults and the `--help` text are all read from it.
 */
interface OptionSpec<T> {
  flag: string;
  /** The value's placeholder in the help (N, LIST…); an option without one is a boolean flag. */
  arg?: string;
  repeatable?: boolean;
  help: string;
  default: T;
  /** The default under --smoke, where it differs. */
  smoke?: T;
  /** How the help shows the default when it is not simply the value. */
  defaultText?: string;
  /** The help's heading above it; set by section(). */
  section?: string;
  read(flag: string, raw: Raw): T;
}

// Readers, one per kind of value. Their messages name the option, for a person at a terminal.

function number({ allowZero = false } = {}) {
  return (flag: string, raw: Raw): number => {
    const parsed = Number(raw);
    if (!Number.isFinite(parsed) || parsed < 0 || (!allowZero && parsed === 0)) throw new UsageError(`--${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number (got "${String(raw)}")`);
    return parsed;
  };
}

function integer(options: { allowZero?: boolean } = {}) {
  const read = number(options);
  return (flag: string, raw: Raw): number => {
    const parsed = read(flag, raw);
    if (!Number.isInteger(parsed)) throw new UsageError(`--${flag} must be a whole number (got "${String(raw)}")`);
    return parsed;
  };
}

function list(raw: Raw): string[] {
  return String(raw).split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function rates(flag: string, raw: Raw): number[] {
  const items = list(raw);
  if (items.length === 0) throw new UsageError(`--${flag} needs at least one rate`);
  return items.map((item) => number()(flag, item));
}

function workloads(_flag: string, raw: Raw): WorkloadName[] {
  const items = list(raw);
  for (const workload of items) {
    if (!(WORKLOADS as readonly string[]).includes(workload)) throw new UsageError(`unknown workload "${workload}" (known: ${WORKLOADS.join(', ')})`);
  }
  return items as WorkloadName[];
}

function keyValues(flag: string, raw: Raw): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of raw as string[]) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag} takes NAME=VALUE (got "${item}")`);
    result[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return result;
}

function processIds(flag: string, raw: Raw): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const [name, pid] of Object.entries(keyValues(flag, raw))) pids[name] = integer()(flag, pid);
  return pids;
}

const flag = (_flag: string, raw: Raw): boolean => raw === true;
const text = (_flag: string, raw: Raw): string => String(raw);

/** Keeps each entry's value type, so BenchOptions can be derived from the table. */
function option<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

/** Puts a section's options under one heading of the help, in the order given. */
function section<Specs extends Record<string, OptionSpec<unknown>>>(title: string, specs: Specs): Specs {
  for (const spec of Object.values(specs)) spec.section = title;
  return specs;
}

/** Every option, keyed by its BenchOptions field, in the order of the help. */
const OPTIONS = {
  ...section('', {
    smoke: option({ flag: 'smoke', help: 'a tiny run (< 40 s) that only checks the benchmark works', default: false, read: flag }),
    workloads: option({ flag: 'workloads', arg: 'LIST', help: `which workloads to run, of ${WORKLOADS.join(',')}`, default: [...DEFAULT_WORKLOADS], defaultText: DEFAULT_WORKLOADS.join(','), read: workloads }),
    out: option<string | undefined>({ flag: 'out', arg: 'DIR', help: 'where to write the report', default: undefined, defaultText: 'bench-results/<ISO time>', read: text }),
    seed: option({ flag: 'seed', arg: 'N', help: 'random seed for conversation membership', default: 1, read: integer({ allowZero: true }) }),
    profile: option({ flag: 'profile', help: 'run the services with --cpu-prof; summarise the profiles at the end', default: false, read: flag }),
  }),
  ...section('stack (default: a private one on free ports, redis-server with AOF everysec)', {
    gatewayReplicas: option({ flag: 'gateway-replicas', arg: 'N', help: 'gateway processes', default: 2, read: integer() }),
    cluster: option({ flag: 'cluster', help: 'run the stack on a local Redis Cluster (3 masters + 3 replicas) and report commands per master', default: false, read: flag }),
    serviceEnv: option<Record<string, string>>({ flag: 'env', arg: 'KEY=VALUE', repeatable: true, help: 'extra environment for every service', default: {}, read: keyValues }),
    target: option<string | undefined>({ flag: 'target', arg: 'URL', help: "use a running stack: the api's (or the edge's) http:// URL", default: undefined, read: text }),
    gatewayUrls: option<string[]>({ flag: 'gateways', arg: 'LIST', help: 'with --target: ws://host:port/ws of each gateway replica', default: [], defaultText: "the target's /ws", read: (_flag, raw) => list(raw) }),
    redisUrl: option<string | undefined>({ flag: 'redis', arg: 'URL', help: 'with --target: its Redis, for commands per message', default: undefined, read: text }),
    pids: option<Record<string, number>>({ flag: 'pid', arg: 'NAME=PID', repeatable: true, help: 'with --target: a process to report CPU for', default: {}, read: processIds }),
  }),
  ...section('chat', {
    users: option({ flag: 'users', arg: 'N', help: 'users, one socket each', default: 1000, smoke: 40, read: integer() }),
    conversations: option({ flag: 'conversations', arg: 'N', help: 'conversations', default: 200, smoke: 8, read: integer() }),
    members: option({ flag: 'members', arg: 'N', help: 'members per conversation', default: 10, read: integer() }),
    steps: option({ flag: 'steps', arg: 'LIST', help: 'msg/s per step', default: [250, 500, 1000, 2000, 3000, 4000], smoke: [50, 100], read: rates }),
    stepSeconds: option({ flag: 'step-seconds', arg: 'N', help: 'length of every step', default: 20, smoke: 2, read: number() }),
    chatP99Ms: option({ flag: 'chat-p99-ms', arg: 'N', help: 'sustainable only with delivery p99 at or below this', default: 50, read: number() }),
  }),
  ...section('big room', {
    bigroomMembers: option({ flag: 'bigroom-members', arg: 'N', help: 'members of the one conversation', default: 1000, smoke: 40, read: integer() }),
    bigroomSteps: option({ flag: 'bigroom-steps', arg: 'LIST', help: 'msg/s per step', default: [25, 50, 100, 150, 200], smoke: [20], read: rates }),
    bigroomP99Ms: option({ flag: 'bigroom-p99-ms', arg: 'N', help: 'sustainable only with delivery p99 at or below this', default: 100, read: number() }),
  }),
  ...section('idle sockets', {
    idleSockets: option({ flag: 'idle-sockets', arg: 'N', help: 'sockets on one fresh gateway replica', default: 20_000, smoke: 200, read: integer() }),
  }),
  ...section('writes', {
    writesSeconds: option({ flag: 'writes-seconds', arg: 'N', help: 'length of the run', default: 20, smoke: 2, read: number() }),
    writesConcurrency: option({ flag: 'writes-concurrency', arg: 'N', help: 'POSTs in flight', default: 64, read: integer() }),
  }),
  ...section('soak (opt-in: --workloads soak; uses the chat sizes --users, --conversations, --members)', {
    soakMinutes: option({ flag: 'soak-minutes', arg: 'N', help: 'length of the run', default: 30, smoke: 0.5, read: number() }),
    soakRate: option({ flag: 'soak-rate', arg: 'N', help: 'msg/s throughout (default: about half the sustainable chat rate of the reference machine)', default: 900, smoke: 50, read: number() }),
    soakChurn: option({ flag: 'soak-churn', arg: 'N', help: 'sockets closed and reconnected per second', default: 5, smoke: 2, read: number({ allowZero: true }) }),
    soakSampleSeconds: option({ flag: 'soak-sample-seconds', arg: 'N', help: 'interval between samples of memory and delivery', default: 60, smoke: 5, read: number() }),
  }),
  ...section('generator', {
    messageBytes: option({ flag: 'message-bytes', arg: 'N', help: 'text length', default: 64, read: integer() }),
    warmupSeconds: option({ flag: 'warmup-seconds', arg: 'N', help: 'unreported warm-up before each ramp', default: 5, smoke: 1, read: number({ allowZero: true }) }),
    httpMaxSockets: option({ flag: 'http-max-sockets', arg: 'N', help: 'keep-alive connections to the api', default: 64, read: integer() }),
    maxInFlight: option({ flag: 'max-in-flight', arg: 'N', help: 'unanswered POSTs beyond which a due post is skipped', default: 2000, read: integer() }),
    tickMs: option({ flag: 'tick-ms', arg: 'N', help: 'period of the open-loop timer that sends the posts due', default: 2, read: integer() }),
    connectConcurrency: option({ flag: 'connect-concurrency', arg: 'N', help: 'WebSocket handshakes at once', default: 200, read: integer() }),
    registerConcurrency: option({ flag: 'register-concurrency', arg: 'N', help: 'registrations at once', default: 32, read: integer() }),
    drainIdleMs: option({ flag: 'drain-idle-ms', arg: 'N', help: 'after a step, give up waiting when nothing arrived for this long', default: 3000, read: integer() }),
    drainMaxMs: option({ flag: 'drain-max-ms', arg: 'N', help: 'and after this long in any case', default: 30_000, smoke: 10_000, read: integer() }),
    stopAfterFailures: option({ flag: 'stop-after-failures', arg: 'N', help: 'stop a ramp after N unsustainable steps in a row; 0 = never', default: 2, read: integer({ allowZero: true }) }),
  }),
};

export type BenchOptions = { -readonly [K in keyof typeof OPTIONS]: (typeof OPTIONS)[K] extends OptionSpec<infer T> ? T : never };

const SPECS: [keyof BenchOptions, OptionSpec<unknown>][] = Object.entries(OPTIONS) as [keyof BenchOptions, OptionSpec<unknown>][];

const HELP_COLUMN = 29;

function helpLine(spec: OptionSpec<unknown>): string {
  const shown = (value: unknown) => (Array.isArray(value) ? value.join(',') : String(value));
  const defaults =
    spec.defaultText ??
    (spec.arg === undefined || spec.repeatable || spec.default === undefined
      ? ''
      : `${shown(spec.default)}${spec.smoke === undefined ? '' : `; with --smoke ${shown(spec.smoke)}`}`);
  const notes = [spec.repeatable ? 'repeatable' : '', defaults === '' ? '' : `default ${defaults}`].filter((note) => note !== '');
  const name = `  --${spec.flag}${spec.arg === undefined ? '' : ` ${spec.arg}`}`;
  return `${name.padEnd(HELP_COLUMN)}${spec.help}${notes.length === 0 ? '' : ` (${notes.join(', ')})`}`;
}

/** A blank line before each section of the help, with its title when it has one. */
function headingBefore(index: number): string {
  const section = SPECS[index]?.[1].section;
  if (index > 0 && section === SPECS[index - 1]?.[1].section) return '';
  return section ? `\n ${section}\n` : '\n';
}

export const USAGE = `npm run bench -- [options]

Drives a chat stack through its public contract (REST + WebSocket) and reports throughput,
delivery latency, losses, CPU per process and Redis commands per message.
Writes bench-results/<timestamp>/{report.json,summary.md,latency.svg}.
${SPECS.map(([, spec], i) => `${headingBefore(i)}${helpLine(spec)}\n`).join('')}`;

const PARSE_CONFIG: NonNullable<ParseArgsConfig['options']> = {
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(SPECS.map(([, spec]) => [spec.flag, { type: spec.arg === undefined ? 'boolean' : 'string', multiple: spec.repeatable === true }])),
};

/** Reads the command line; throws UsageError with a message for a person. */
export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: PARSE_CONFIG });
  if (values.help === true) return 'help';
  const smoke = values.smoke === true;

  const parsed: Record<string, unknown> = {};
  for (const [key, spec] of SPECS) {
    const raw = values[spec.flag];
    // A copy, so that no run can change the table's own default arrays and objects.
    parsed[key] = raw !== undefined ? spec.read(spec.flag, raw) : structuredClone(smoke && spec.smoke !== undefined ? spec.smoke : spec.default);
  }
  const options = parsed as BenchOptions;

  const given = (spec: OptionSpec<unknown>) => values[spec.flag] !== undefined;
  if (options.target === undefined && [OPTIONS.gatewayUrls, OPTIONS.redisUrl, OPTIONS.pids].some(given)) {
    throw new UsageError('--gateways, --redis and --pid only go with --target');
  }
  if (options.members < 2) throw new UsageError('--members must be at least 2');
  if (options.members > options.users) throw new UsageError(`--members (${options.members}) cannot exceed --users (${options.users})`);
  if (options.bigroomMembers < 2 || options.bigroomMembers > 1000) throw new UsageError('--bigroom-members must be 2..1000 (the contract allows 1000 members)');
  if (options.target !== undefined && !/^https?:\/\//.test(options.target)) throw new UsageError('--target must be an http:// URL');
  // Profiling signals the services, which only the benchmark's own stack is prepared for.
  if (options.target !== undefined && options.cluster) throw new UsageError('--cluster only works with the stack the benchmark starts (not with --target)');
  if (options.target !== undefined && options.profile) throw new UsageError('--profile only works with the stack the benchmark starts (not with --target)');
  if (options.target !== undefined && options.gatewayUrls.length === 0) {
    const edge = new URL(options.target);
    edge.protocol = edge.protocol === 'https:' ? 'wss:' : 'ws:';
    edge.pathname = '/ws';
    options.gatewayUrls = [edge.toString()];
  }
  return options;
}
