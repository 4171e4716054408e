import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * CI keeps the reference stacks working (bench/src/reference: the floor and the Socket.IO
 * peer): tiny sizes must run to the end and deliver every message to every member's socket. It
 * checks that they work, never how fast.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUN_LIMIT_MS = 45_000;
const RATE = 100;
const SECONDS = 2;
const MEMBERS = 5;

async function runReference(stack: string): Promise<string> {
  const args = ['--stack', stack, '--rate', String(RATE), '--seconds', String(SECONDS), '--warmup-seconds', '1', '--users', '40', '--conversations', '8', '--members', String(MEMBERS)];
  const started = spawn(process.execPath, ['--import', 'tsx', 'bench/src/reference/main.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = await new Promise<number | null>((resolveRun, rejectRun) => {
    const timer = setTimeout(() => {
      started.kill('SIGTERM');
      rejectRun(new Error(`the ${stack} benchmark did not finish within ${RUN_LIMIT_MS} ms; its output:\n${output}`));
    }, RUN_LIMIT_MS);
    started.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun(code);
    });
  });
  assert.equal(exit, 0, output);
  const expected = RATE * SECONDS * MEMBERS;
  assert.match(output, new RegExp(`Delivered ${expected} of ${expected};`), output);
  return output;
}

const processLine = (name: string) => new RegExp(`^\\| ${name} \\| \\d+\\.\\d{3} \\|`, 'm');

test('the floor delivers every message it posts and reports CPU per process', async () => {
  const output = await runReference('floor');
  for (const name of ['api', 'fanout-0', 'fanout-1', 'redis']) assert.match(output, processLine(name), output);
});

test('the Socket.IO peer delivers every message it posts and reports CPU per process', async () => {
  const output = await runReference('socketio');
  for (const name of ['peer-0', 'peer-1', 'redis']) assert.match(output, processLine(name), output);
});
