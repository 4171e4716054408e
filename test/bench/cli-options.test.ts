import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { USAGE, UsageError, parseBenchOptions, type BenchOptions } from '../../bench/src/cli-options.js';

/** The bench's options come from one table; these check what the parser and the help read from it. */

function parse(argv: string[]): BenchOptions {
  const options = parseBenchOptions(argv);
  assert.notEqual(options, 'help');
  return options as BenchOptions;
}

const helpFlags = [...USAGE.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((match) => match[1]);

test('the help lists every option the parser takes, once', () => {
  assert.equal(new Set(helpFlags).size, helpFlags.length);
  assert.ok(helpFlags.includes('tick-ms') && helpFlags.includes('stop-after-failures'));
  for (const name of helpFlags) {
    const line = USAGE.split('\n').find((candidate) => candidate.startsWith(`  --${name} `) || candidate === `  --${name}`)!;
    const takesValue = /^ {2}--[a-z0-9-]+ [A-Z]/.test(line);
    // Every option is known to the parser (strict parsing would throw otherwise).
    assert.doesNotThrow(() => parseBenchOptions(takesValue ? [`--${name}=1`, '--help'] : [`--${name}`, '--help']), name);
  }
  assert.throws(() => parseBenchOptions(['--no-such-option']), /Unknown option/);
  assert.equal(parseBenchOptions(['-h']), 'help');
});

test('the help states the defaults the parser uses', () => {
  const defaults = parse([]);
  assert.match(USAGE, /--users N +users, one socket each \(default 1000; with --smoke 40\)/);
  assert.match(USAGE, /--steps LIST +msg\/s per step \(default 250,500,1000,2000,3000,4000; with --smoke 50,100\)/);
  assert.equal(defaults.users, 1000);
  assert.deepEqual(defaults.steps, [250, 500, 1000, 2000, 3000, 4000]);
  assert.match(USAGE, /--pid NAME=PID .*\(repeatable\)/);
});

test('defaults, with and without --smoke', () => {
  const full = parse([]);
  assert.deepEqual(full.workloads, ['chat', 'bigroom', 'idle', 'writes']);
  assert.deepEqual(
    [full.users, full.conversations, full.members, full.stepSeconds, full.chatP99Ms, full.bigroomMembers, full.bigroomP99Ms, full.idleSockets],
    [1000, 200, 10, 20, 50, 1000, 100, 20_000],
  );
  assert.deepEqual(full.bigroomSteps, [25, 50, 100, 150, 200]);
  assert.deepEqual(
    [full.seed, full.gatewayReplicas, full.httpMaxSockets, full.maxInFlight, full.tickMs, full.registerConcurrency, full.connectConcurrency],
    [1, 2, 64, 2000, 2, 32, 200],
  );
  assert.deepEqual(
    [full.messageBytes, full.warmupSeconds, full.drainIdleMs, full.drainMaxMs, full.stopAfterFailures, full.writesSeconds, full.writesConcurrency],
    [64, 5, 3000, 30_000, 2, 20, 64],
  );
  assert.deepEqual([full.smoke, full.profile, full.out, full.target, full.redisUrl], [false, false, undefined, undefined, undefined]);
  assert.deepEqual([full.gatewayUrls, full.pids, full.serviceEnv], [[], {}, {}]);

  const smoke = parse(['--smoke']);
  assert.deepEqual(
    [smoke.users, smoke.conversations, smoke.stepSeconds, smoke.bigroomMembers, smoke.idleSockets, smoke.writesSeconds, smoke.warmupSeconds, smoke.drainMaxMs],
    [40, 8, 2, 40, 200, 2, 1, 10_000],
  );
  assert.deepEqual([smoke.steps, smoke.bigroomSteps], [[50, 100], [20]]);
  assert.equal(parse(['--smoke', '--users', '60']).users, 60, 'a value given wins over the smoke default');

  // A run may not change the defaults of the next one.
  full.steps.push(1);
  full.serviceEnv.X = '1';
  assert.deepEqual(parse([]).steps, [250, 500, 1000, 2000, 3000, 4000]);
  assert.deepEqual(parse([]).serviceEnv, {});
});

test('values are read and checked', () => {
  const options = parse(['--steps', '1, 2.5,', '--seed', '0', '--env', 'A=1', '--env', 'B=x=y', '--workloads', 'idle,chat', '--warmup-seconds', '0']);
  assert.deepEqual(options.steps, [1, 2.5]);
  assert.equal(options.seed, 0);
  assert.deepEqual(options.serviceEnv, { A: '1', B: 'x=y' });
  assert.deepEqual(options.workloads, ['idle', 'chat']);
  assert.equal(options.warmupSeconds, 0);

  const refusals: [string[], RegExp][] = [
    [['--users', '0'], /--users must be a positive number/],
    [['--seed', '1.5'], /--seed must be a whole number/],
    [['--steps', ','], /--steps needs at least one rate/],
    [['--bigroom-steps', '5,0'], /--bigroom-steps must be a positive number/],
    [['--workloads', 'chat,nope'], /unknown workload "nope"/],
    [['--env', '=1'], /--env takes NAME=VALUE/],
    [['--members', '1'], /--members must be at least 2/],
    [['--smoke', '--members', '41'], /cannot exceed --users \(40\)/],
    [['--bigroom-members', '1001'], /--bigroom-members must be 2\.\.1000/],
    [['--redis', 'redis://r'], /only go with --target/],
    [['--target', 'ftp://x'], /--target must be an http:\/\/ URL/],
    [['--target', 'http://x', '--profile'], /--profile only works/],
    [['--target', 'http://x', '--pid', 'api=x'], /--pid must be a positive number/],
  ];
  for (const [argv, message] of refusals) assert.throws(() => parseBenchOptions(argv), (error: unknown) => error instanceof UsageError && message.test(error.message), argv.join(' '));
});

test('--target: the gateways default to its /ws', () => {
  const edge = parse(['--target', 'https://chat.example:8443/api', '--pid', 'api=12']);
  assert.deepEqual(edge.gatewayUrls, ['wss://chat.example:8443/ws']);
  assert.deepEqual(edge.pids, { api: 12 });
  const listed = parse(['--target', 'http://127.0.0.1:3000', '--gateways', 'ws://a/ws, ws://b/ws']);
  assert.deepEqual(listed.gatewayUrls, ['ws://a/ws', 'ws://b/ws']);
});
