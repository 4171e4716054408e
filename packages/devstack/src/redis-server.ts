import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { createOutputBuffer, type OutputBuffer } from './output-buffer.js';
import { killOnExit } from './process-reaper.js';
import { probeRedis } from './redis-ping.js';
import { describeExit, exitWithin, waitForExit, type ExitStatus } from './wait-for-exit.js';

export interface RedisServerOptions {
  /** Data directory (AOF files). Defaults to a fresh temporary directory. */
  dir?: string;
  /** Defaults to a free port. */
  port?: number;
  /** Picks the port when `port` is not given (and again if another process took it first). Default freePort. */
  pickPort?: () => Promise<number>;
  /** Default true: the fault tests rely on data surviving a kill. */
  appendOnly?: boolean;
  /** Default 'everysec'. */
  appendFsync?: 'always' | 'everysec' | 'no';
  /** More `--name value` arguments, appended last so they win. */
  extraArgs?: string[];
  /** How long the server may take to answer PING. Default 10 s. */
  startTimeoutMs?: number;
  /**
   * Run in its own process group, so a terminal's Ctrl-C reaches only the supervisor, which then
   * stops things in order. Default false (tests want their children to share their fate).
   */
  detached?: boolean;
}

export interface RedisServerHandle {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The pid of the current redis-server process (it changes on restart). */
  readonly pid: number | undefined;
  /** SIGTERM (Redis flushes the AOF), SIGKILL after 5 s. Safe to call twice or after kill(). */
  stop(): Promise<void>;
  /** SIGKILL, for fault tests: whatever was not yet fsynced is lost. */
  kill(): Promise<void>;
  /** Starts redis-server again on the same port and dir (stopping it first if it runs). */
  restart(): Promise<void>;
  /** stop(), then delete the data dir if startRedisServer created it. */
  dispose(): Promise<void>;
  /** stdout+stderr of the current process (Redis logs to stdout). */
  output(): string;
}

/** redis-server is not installed (or not on PATH). */
export class RedisServerNotFoundError extends Error {
  constructor() {
    super('redis-server was not found on PATH (install it with `apt-get install redis-server`)');
    this.name = this.constructor.name;
  }
}

interface RunningRedis {
  child: ChildProcess;
  output: OutputBuffer;
  exit: Promise<ExitStatus>;
  exited: boolean;
}

const STOP_GRACE_MS = 5_000;
const PING_INTERVAL_MS = 50;
const PORT_RETRIES = 3;

function serverArgs(port: number, dir: string, options: RedisServerOptions): string[] {
  return [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--save', '',
    '--appendonly', options.appendOnly === false ? 'no' : 'yes',
    '--appendfsync', options.appendFsync ?? 'everysec',
    // As in docker-compose.yml (see there): fewer AOF rewrites under load.
    '--auto-aof-rewrite-min-size', '512mb',
    '--dir', dir,
    '--maxmemory-policy', 'noeviction',
    '--protected-mode', 'yes',
    ...(options.extraArgs ?? []),
  ];
}

function launch(args: string[], detached: boolean): RunningRedis {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached });
  const output = createOutputBuffer();
  child.stdout?.on('data', (chunk: Buffer) => output.append(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.append(chunk));
  killOnExit(child);
  const running: RunningRedis = { child, output, exit: waitForExit(child), exited: false };
  void running.exit.then(() => {
    running.exited = true;
  });
  return running;
}

/** Resolves once the server answers PING; rejects with its output if it exits or times out. */
async function untilAnswering(running: RunningRedis, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await Promise.race([running.exit, probeRedis({ host: '127.0.0.1', port }, 500)]);
    // -NOAUTH (a --requirepass in extraArgs) means it is up; -LOADING means the AOF is still loading.
    if (typeof status === 'string' && !status.startsWith('-LOADING')) return;
    if (typeof status === 'object') {
      if (status.error && 'code' in status.error && status.error.code === 'ENOENT') throw new RedisServerNotFoundError();
      throw new Error(
        `redis-server on port ${port} exited during start-up (${describeExit(status)}):\n${running.output.lastLines(20)}`,
      );
    }
    if (Date.now() >= deadline) {
      running.child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms:\n${running.output.lastLines(20)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, PING_INTERVAL_MS));
  }
}


async function terminate(running: RunningRedis, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (running.exited) return;
  running.child.kill(signal);
  if ((await exitWithin(running.exit, graceMs)) === 'timeout') {
    running.child.kill('SIGKILL');
    await running.exit;
  }
}

/**
 * Starts a private redis-server from PATH on 127.0.0.1 and resolves once it answers PING.
 * Tests use one per file so they never touch a shared Redis.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'chat-redis-')));
  await mkdir(dir, { recursive: true });
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;

  const pickPort = options.pickPort ?? freePort;
  let port = options.port ?? (await pickPort());
  let running: RunningRedis;
  for (let attempt = 1; ; attempt += 1) {
    running = launch(serverArgs(port, dir, options), options.detached ?? false);
    try {
      await untilAnswering(running, port, startTimeoutMs);
      break;
    } catch (error) {
      // Another process may grab a free port between freePort() and redis binding it; pick anew.
      const raced = options.port === undefined && running.output.text().includes('Address already in use');
      if (!raced || attempt >= PORT_RETRIES) {
        if (ownsDir) await rm(dir, { recursive: true, force: true });
        throw error;
      }
      port = await pickPort();
    }
  }

  let current = running;
  const finalPort = port;

  const handle: RedisServerHandle = {
    url: `redis://127.0.0.1:${finalPort}`,
    port: finalPort,
    dir,
    get pid() {
      return current.child.pid;
    },
    stop: () => terminate(current, 'SIGTERM', STOP_GRACE_MS),
    kill: () => terminate(current, 'SIGKILL', STOP_GRACE_MS),
    async restart() {
      await terminate(current, 'SIGTERM', STOP_GRACE_MS);
      current = launch(serverArgs(finalPort, dir, options), options.detached ?? false);
      await untilAnswering(current, finalPort, startTimeoutMs);
    },
    async dispose() {
      await terminate(current, 'SIGTERM', STOP_GRACE_MS);
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
    output: () => current.output.text(),
  };
  return handle;
}
