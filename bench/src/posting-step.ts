import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CpuSampler, type CpuUsage } from './process-cpu.js';
import type { DeliveryCounts, DeliveryTracker, PostCounts } from './delivery-tracker.js';
import type { LatencySummary } from './latency-samples.js';
import { drainStep, runOpenLoop, type PostTarget } from './open-loop.js';
import { RedisStats, type RedisPerMessage } from './redis-stats.js';
import type { RunContext } from './run-context.js';

export interface StepResult {
  name: string;
  /** Offered rate, messages per second. */
  targetRate: number;
  /** Length of the posting window. */
  seconds: number;
  /** How long the drain after the window took. */
  drainSeconds: number;
  posts: PostCounts;
  /** Accepted posts ÷ window seconds. */
  achievedRate: number;
  deliveries: DeliveryCounts;
  /** Frames received ÷ (last arrival − window start). */
  deliveredPerSecond: number;
  /** From just before the POST to the frame's arrival, per delivery, in ms. */
  latency: LatencySummary;
  /** Of the POST itself (until its answer was read), in ms. */
  postLatency: LatencySummary;
  /** Over the posting window; 100 = one core. */
  cpu: CpuUsage;
  /** From the window's start to the drain's end. */
  redis: RedisPerMessage | undefined;
  /** The generator's own event-loop delay during the window, in ms: high values mean it was the bottleneck. */
  generatorLoopDelay: { p99: number; max: number };
  socketsClosed: number;
  sustainable: boolean;
  /** Why not, when not. */
  verdict: string[];
}

export interface StepSpec {
  name: string;
  rate: number;
  seconds: number;
  next: () => PostTarget;
  p99LimitMs: number;
  /** A measured step (not a warm-up): profiled with --profile. */
  measured: boolean;
}

const MIN_ACHIEVED_SHARE = 0.95;
/** The histogram records the interval between its timer's runs: the delay is that minus the resolution. */
const LOOP_RESOLUTION_MS = 5;

function ms(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Runs one open-loop step and its drain, measuring everything the report shows. */
export async function runPostingStep(ctx: RunContext, tracker: DeliveryTracker, spec: StepSpec): Promise<StepResult> {
  const { options, progress } = ctx;
  const step = tracker.startStep(spec.name);
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const redisBefore = await ctx.redisStats?.snapshot();
  const cpuBefore = ctx.cpu.snapshot();
  const windowStart = performance.now();
  if (spec.measured) ctx.profiles?.start(spec.name);
  loopDelay.enable();
  const line = (phase: string) =>
    `${spec.name}: ${phase} posted ${step.posts.attempted} accepted ${step.posts.accepted} waiting ${step.inFlight} ` +
    `delivered ${step.receivedTotal} owed ${step.missing}${step.posts.refused ? ` refused ${step.posts.refused}` : ''}` +
    `${step.posts.errorCount ? ` errors ${step.posts.errorCount}` : ''}` +
    `${step.posts.shortfall ? ` shortfall ${step.posts.shortfall}` : ''}`;

  const seconds = await runOpenLoop({
    api: ctx.api,
    tracker,
    step,
    next: spec.next,
    nonces: ctx.nonces,
    rate: spec.rate,
    seconds: spec.seconds,
    messageBytes: options.messageBytes,
    maxInFlight: options.maxInFlight,
    tickMs: options.tickMs,
    signal: ctx.signal,
    onTick: (elapsed) => progress.update(line(`${(elapsed / 1000).toFixed(1)}/${spec.seconds} s`)),
  });
  loopDelay.disable();
  const cpuAfter = ctx.cpu.snapshot();
  if (spec.measured) ctx.profiles?.stop();
  const drainSeconds = await drainStep(step, {
    idleMs: options.drainIdleMs,
    maxMs: options.drainMaxMs,
    signal: ctx.signal,
    onTick: () => progress.update(line('draining')),
  });
  const redisAfter = await ctx.redisStats?.snapshot();

  const deliveries = step.deliveries();
  const latency = step.latency();
  tracker.finishStep(step);
  const achievedRate = step.posts.accepted / seconds;
  const lastArrival = step.lastArrivalAt > windowStart ? step.lastArrivalAt : windowStart + seconds * 1000;
  const deliveredPerSecond = deliveries.received / Math.max((lastArrival - windowStart) / 1000, seconds);

  const verdict: string[] = [];
  if (deliveries.lost > 0) verdict.push(`${deliveries.lost} lost`);
  if (latency.delivery.p99 > spec.p99LimitMs) verdict.push(`p99 ${latency.delivery.p99} ms > ${spec.p99LimitMs} ms`);
  if (step.posts.refused > 0) verdict.push(`${step.posts.refused} refused (503)`);
  if (achievedRate < MIN_ACHIEVED_SHARE * spec.rate) verdict.push(`achieved ${Math.round(achievedRate)} msg/s < 95% of ${spec.rate}`);
  if (deliveries.received === 0) verdict.push('nothing delivered');
  if (ctx.signal.aborted) verdict.push('interrupted');

  return {
    name: spec.name,
    targetRate: spec.rate,
    seconds: ms(seconds),
    drainSeconds: ms(drainSeconds),
    posts: step.posts,
    achievedRate: ms(achievedRate),
    deliveries,
    deliveredPerSecond: Math.round(deliveredPerSecond),
    latency: latency.delivery,
    postLatency: latency.post,
    cpu: CpuSampler.usage(cpuBefore, cpuAfter),
    redis: redisBefore && redisAfter ? RedisStats.perMessage(redisBefore, redisAfter, step.posts.accepted) : undefined,
    generatorLoopDelay: {
      p99: ms(Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS)),
      max: ms(Math.max(0, loopDelay.max / 1e6 - LOOP_RESOLUTION_MS)),
    },
    socketsClosed: step.socketsClosed,
    sustainable: verdict.length === 0,
    verdict,
  };
}

/** One line per finished step for the console. */
function describeStep(result: StepResult): string {
  const d = result.deliveries;
  return (
    `${result.name}: ${result.achievedRate} msg/s accepted of ${result.targetRate} offered, ` +
    `${result.deliveredPerSecond} deliveries/s, p50 ${result.latency.p50} p99 ${result.latency.p99} max ${result.latency.max} ms, ` +
    `lost ${d.lost} dup ${d.duplicated} ooo ${d.outOfOrder}, refused ${result.posts.refused} errors ${result.posts.errorCount} shortfall ${result.posts.shortfall}` +
    ` → ${result.sustainable ? 'sustainable' : `not sustainable (${result.verdict.join('; ')})`}`
  );
}

/**
 * Runs the ramp's steps in order after an unreported warm-up, stopping after
 * `stopAfterFailures` unsustainable steps in a row (past saturation every step only adds backlog).
 */
export async function runRamp(
  ctx: RunContext,
  tracker: DeliveryTracker,
  label: string,
  rates: number[],
  makeSpec: (name: string, rate: number, seconds: number) => Omit<StepSpec, 'measured'>,
): Promise<{ warmup: StepResult | undefined; steps: StepResult[]; stoppedEarly: boolean }> {
  const { options, progress } = ctx;
  let warmup: StepResult | undefined;
  const firstRate = rates[0];
  if (options.warmupSeconds > 0 && firstRate !== undefined) {
    progress.log(`${label}: warm-up, ${firstRate} msg/s for ${options.warmupSeconds} s`);
    warmup = await runPostingStep(ctx, tracker, { ...makeSpec(`${label} warm-up`, firstRate, options.warmupSeconds), measured: false });
    progress.log(`  ${describeStep(warmup)}`);
  }
  const steps: StepResult[] = [];
  let failuresInARow = 0;
  for (const [i, rate] of rates.entries()) {
    if (ctx.signal.aborted) break;
    progress.log(`${label}: step ${i + 1}/${rates.length}, ${rate} msg/s for ${options.stepSeconds} s`);
    const result = await runPostingStep(ctx, tracker, { ...makeSpec(`${label} ${rate}/s`, rate, options.stepSeconds), measured: true });
    steps.push(result);
    progress.log(`  ${describeStep(result)}`);
    failuresInARow = result.sustainable ? 0 : failuresInARow + 1;
    if (options.stopAfterFailures > 0 && failuresInARow >= options.stopAfterFailures && i < rates.length - 1) {
      progress.log(`${label}: ${failuresInARow} unsustainable steps in a row; skipping the higher rates`);
      return { warmup, steps, stoppedEarly: true };
    }
  }
  return { warmup, steps, stoppedEarly: false };
}
