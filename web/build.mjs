#!/usr/bin/env node
// Bundles the page: src/main.ts (and @chat/client, from its built dist/) into public/app.js with a
// source map. index.html and styles.css in public/ are sources and are not touched.
// Run after the SDK is built (the root `npm run build` builds it, then runs this).
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const webDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(webDir);
const publicDir = join(webDir, 'public');
const outfile = join(publicDir, 'app.js');

function fail(message) {
  process.stderr.write(`web build: ${message}\n`);
  process.exit(1);
}

if (!existsSync(join(repoRoot, 'packages', 'client', 'dist', 'index.js'))) {
  fail('packages/client is not built; run `npm run build`, which builds the SDK and then the page');
}
for (const source of ['index.html', 'styles.css']) {
  if (!existsSync(join(publicDir, source))) fail(`web/public/${source} is missing`);
}

// A stale bundle must never outlive a failed build.
rmSync(outfile, { force: true });
rmSync(`${outfile}.map`, { force: true });

try {
  await build({
    entryPoints: [join(webDir, 'src', 'main.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Browsers of the last few years: <dialog>, ES2022 classes, optional chaining.
    target: ['es2022', 'chrome100', 'firefox100', 'safari16'],
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
} catch (error) {
  // esbuild has already printed the errors with their locations.
  fail(error instanceof Error ? error.message.split('\n')[0] : String(error));
}

const size = statSync(outfile).size;
process.stdout.write(`web build: ${relative(repoRoot, outfile)} (${(size / 1024).toFixed(1)} KiB)\n`);
