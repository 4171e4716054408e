#!/usr/bin/env node
// Runs the test suite: every *.test.ts under test/ (sorted), or only those whose path contains
// one of the words given as arguments (`node test/run-tests.mjs api gateway`).
// The tests import the workspace packages' sources, not their dist/: every package's exports map
// has a `chat-source` condition pointing at src/, which only this runner turns on (tsx runs the .ts).
// The services a test starts as processes still run their built dist/main.js, as users run them.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const testDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(testDir);

/** @param {string} dir @returns {string[]} */
function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : findTests(path);
    return entry.isFile() && entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = findTests(testDir)
  .map((path) => relative(repoRoot, path))
  .filter((path) => filters.length === 0 || filters.some((filter) => path.includes(filter)))
  .sort();

if (files.length === 0) {
  process.stderr.write(`run-tests: no *.test.ts under test/ matches ${filters.join(' ') || '(no filter)'}\n`);
  process.exit(1);
}

const child = spawn(
  process.execPath,
  ['--conditions=chat-source', '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { cwd: repoRoot, stdio: 'inherit' },
);

// A terminal's Ctrl-C already reaches the runner (same process group): stay alive so its summary
// is printed, and print nothing after it. SIGTERM is sent to this process alone: pass it on.
process.on('SIGINT', () => {
  process.exitCode = 130;
});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
