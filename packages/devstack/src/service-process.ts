import { spawn } from 'node:child_process';
import { answers200 } from './answers-200.js';
import { createOutputBuffer } from './output-buffer.js';
import { killOnExit } from './process-reaper.js';
import { describeExit, exitWithin, waitForExit, type ExitStatus } from './wait-for-exit.js';

export interface ServiceOptions {
  /** For messages only (api, worker, gateway-1 …). */
  name: string;
  /** Absolute path of the service's dist/main.js. */
  script: string;
  /** The service's configuration; merged over PATH, HOME and NODE_ENV of this process. */
  env: Record<string, string>;
  /** Start-up is done once this URL answers 200 (typically …/healthz). Without it, once spawned. */
  healthUrl?: string;
  /** Default 15 s. */
  startTimeoutMs?: number;
  /**
   * 'buffer' (default) keeps the output for {@link ServiceHandle.output}; 'inherit' writes it to
   * this process's stdout/stderr, so a service's pino-pretty sees the terminal.
   */
  logSink?: 'inherit' | 'buffer';
  /**
   * Run in its own process group, so a terminal's Ctrl-C reaches only the supervisor, which then
   * stops services in order. Default false.
   */
  detached?: boolean;
}

export interface ServiceHandle {
  readonly name: string;
  readonly pid: number;
  /**
   * Sends `signal` (default SIGTERM) and waits up to `timeoutMs` (default 10 s), then SIGKILLs.
   * Resolves with the exit code (null when a signal ended it). Safe to call twice.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** SIGKILL, for fault tests. */
  kill(): Promise<void>;
  /** Resolves when the process has exited, however that happened. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last ~200 KB of stdout+stderr (empty with logSink 'inherit'). */
  output(): string;
}

const HEALTH_POLL_INTERVAL_MS = 50;
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'NODE_ENV'] as const) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}


/**
 * Runs `node <script>` with the given environment and resolves once its health URL answers 200.
 * Rejects (after killing it) if it exits first or does not become healthy in time, with its last
 * output lines in the message.
 */
export async function startService(options: ServiceOptions): Promise<ServiceHandle> {
  const logSink = options.logSink ?? 'buffer';
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const child = spawn(process.execPath, [options.script], {
    env: { ...baseEnv(), ...options.env },
    stdio: logSink === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  killOnExit(child);
  const output = createOutputBuffer();
  child.stdout?.on('data', (chunk: Buffer) => output.append(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.append(chunk));

  const exit = waitForExit(child);
  let exitedStatus: ExitStatus | undefined;
  void exit.then((status) => {
    exitedStatus = status;
  });
  const exited = exit.then(({ code, signal }) => ({ code, signal }));

  const failure = (why: string) => {
    const tail = logSink === 'buffer' ? `:\n${output.lastLines(30)}` : ' (its output is above)';
    return new Error(`${options.name} (${options.script}) ${why}${tail}`);
  };

  if (options.healthUrl !== undefined) {
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      const outcome = await Promise.race([exit, answers200(options.healthUrl, HEALTH_REQUEST_TIMEOUT_MS)]);
      if (outcome === true) break;
      if (typeof outcome === 'object') throw failure(`exited during start-up (${describeExit(outcome)})`);
      if (Date.now() >= deadline) {
        child.kill('SIGKILL');
        await exit;
        throw failure(`did not answer 200 on ${options.healthUrl} within ${startTimeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_INTERVAL_MS));
    }
  } else {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      void exit.then((status) => reject(failure(`could not start (${describeExit(status)})`)));
    });
  }

  const pid = child.pid;
  if (pid === undefined) throw failure('has no pid');

  let stopping: Promise<number | null> | undefined;

  return {
    name: options.name,
    pid,
    stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) {
      if (stopping) return stopping;
      stopping = (async () => {
        if (exitedStatus) return exitedStatus.code;
        child.kill(signal);
        const outcome = await exitWithin(exit, timeoutMs);
        if (outcome !== 'timeout') return outcome.code;
        child.kill('SIGKILL');
        return (await exit).code;
      })();
      return stopping;
    },
    async kill() {
      if (exitedStatus) return;
      child.kill('SIGKILL');
      await exit;
    },
    exited,
    output: () => output.text(),
  };
}
