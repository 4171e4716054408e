#!/usr/bin/env node
// Builds the publishable package after `tsc -b` (which type-checks the SDK and builds
// @chat/contracts; the root `npm run build` runs both):
// - dist/index.js: the SDK bundled by esbuild, with the zod-free tables it shares with the server
//   (@chat/contracts/close-codes, /error-codes, /limits) inlined, so it has no runtime dependency;
// - dist/index.d.ts: the SDK's declarations bundled by dts-bundle-generator, with the wire types
//   inlined as plain declarations generated from the contract's zod schemas
//   (wire-type-declarations.mjs), so its users need neither zod nor @chat/contracts.
// Then checks both: nothing but the SDK and those tables in the bundle, no import left in the
// declarations, and every published wire type identical to the one @chat/contracts infers.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDtsBundle } from 'dts-bundle-generator';
import { build } from 'esbuild';
import ts from 'typescript';
import { WIRE_TYPE_NAMES, wireTypeDeclarations } from './wire-type-declarations.mjs';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const repoRoot = dirname(dirname(packageDir));
const distDir = join(packageDir, 'dist');
const entry = join(packageDir, 'src', 'index.ts');
/** Scratch files of the declaration step; not published (see `files` in package.json). */
const workDir = join(distDir, '.declarations');

/** The only modules outside the SDK's sources the bundle may contain: zod-free, no imports. */
const SHARED_TABLES = ['close-codes', 'error-codes', 'limits'];

function removeOutputs() {
  for (const name of ['index.js', 'index.js.map', 'index.d.ts']) rmSync(join(distDir, name), { force: true });
}

/** A bundle that failed a check must not outlive the build. */
function fail(message) {
  removeOutputs();
  process.stderr.write(`client build: ${message}\n`);
  process.exit(1);
}

async function bundleJavaScript() {
  const { metafile } = await build({
    entryPoints: [entry],
    outfile: join(distDir, 'index.js'),
    bundle: true,
    format: 'esm',
    // Browsers and Node alike: no Node built-ins, no browser globals assumed by the bundler.
    platform: 'neutral',
    target: 'es2022',
    sourcemap: true,
    metafile: true,
    // metafile paths are relative to this.
    absWorkingDir: repoRoot,
    logLevel: 'warning',
  });
  const contractsDist = join(repoRoot, 'packages', 'contracts', 'dist');
  const allowed = (input) =>
    input.startsWith(join(packageDir, 'src')) || SHARED_TABLES.some((name) => input === join(contractsDist, `${name}.js`));
  const strays = Object.keys(metafile.inputs).map((input) => join(repoRoot, input)).filter((input) => !allowed(input));
  if (strays.length > 0) {
    const names = strays.map((input) => relative(repoRoot, input)).join(', ');
    fail(`dist/index.js would carry more than the SDK and its shared tables: ${names}`);
  }
}

async function bundleDeclarations() {
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(workDir, 'contracts.d.ts'), await wireTypeDeclarations());
  // The SDK's sources as they are, except that `@chat/contracts` means the generated declarations.
  const tsconfig = join(workDir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { composite: false, paths: { '@chat/contracts': ['./contracts.d.ts'] } },
      include: ['../../src'],
    }),
  );
  // tsc -b has type-checked the sources already.
  const [bundled] = generateDtsBundle(
    [
      {
        filePath: entry,
        noCheck: true,
        libraries: { inlinedLibraries: ['@chat/contracts'] },
        output: { noBanner: true, exportReferencedTypes: false },
      },
    ],
    { preferredConfigPath: tsconfig },
  );
  writeFileSync(join(distDir, 'index.d.ts'), bundled);
}

function diagnostics(rootNames, options) {
  const program = ts.createProgram(rootNames, { strict: true, noEmit: true, skipLibCheck: false, ...options });
  // With the offending line quoted, so a failed check names the type.
  return ts.formatDiagnosticsWithColorAndContext(ts.getPreEmitDiagnostics(program), {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => packageDir,
    getNewLine: () => '\n',
  });
}

function checkDeclarations() {
  const declarations = join(distDir, 'index.d.ts');
  // Self-contained: compiles on its own, resolving no other module.
  const text = readFileSync(declarations, 'utf8');
  if (/^\s*(import|export .* from|\/\/\/ <reference)/m.test(text)) fail('dist/index.d.ts refers to another module');
  const alone = diagnostics([declarations], { noResolve: true, types: [], lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'] });
  if (alone) fail(`dist/index.d.ts does not compile on its own:\n${alone}`);

  // Faithful: each published wire type is the one @chat/contracts infers from its schema.
  const check = join(workDir, 'same-as-contracts.ts');
  writeFileSync(
    check,
    [
      "import type * as Sdk from '../index.js';",
      "import type * as Contracts from '@chat/contracts';",
      'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;',
      ...WIRE_TYPE_NAMES.map((name) => `export const ${name}: Same<Sdk.${name}, Contracts.${name}> = true;`),
      '',
    ].join('\n'),
  );
  const drift = diagnostics([check], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    skipLibCheck: true,
  });
  if (drift) fail(`a published wire type differs from @chat/contracts (the line names it):\n${drift}`);
}

removeOutputs();
await bundleJavaScript();
await bundleDeclarations();
checkDeclarations();
process.stdout.write('client build: dist/index.js, dist/index.d.ts\n');
