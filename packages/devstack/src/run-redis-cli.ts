import { spawn } from 'node:child_process';
import { createOutputBuffer } from './output-buffer.js';
import { killOnExit } from './process-reaper.js';
import { describeExit, exitWithin, waitForExit } from './wait-for-exit.js';

/**
 * Runs `redis-cli ARGS` to completion and resolves with its output; rejects with that output when
 * it exits non-zero or outlives `timeoutMs` (then it is SIGKILLed). Its stdin is closed, so a
 * question it asks (`--cluster create` without `--cluster-yes`) fails instead of hanging.
 */
export async function runRedisCli(args: string[], timeoutMs: number): Promise<string> {
  const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = createOutputBuffer();
  child.stdout?.on('data', (chunk: Buffer) => output.append(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.append(chunk));
  killOnExit(child);
  const exit = waitForExit(child);
  const status = await exitWithin(exit, timeoutMs);
  const command = `redis-cli ${args.join(' ')}`;
  if (status === 'timeout') {
    child.kill('SIGKILL');
    await exit;
    throw new Error(`${command} did not finish within ${timeoutMs} ms:\n${output.lastLines(20)}`);
  }
  if (status.error && 'code' in status.error && status.error.code === 'ENOENT') {
    throw new Error('redis-cli was not found on PATH (it comes with redis-server: `apt-get install redis-server`)');
  }
  if (status.code !== 0) throw new Error(`${command} failed (${describeExit(status)}):\n${output.lastLines(20)}`);
  return output.text();
}
