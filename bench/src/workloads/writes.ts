import type { RegisteredUser } from '../api-client.js';
import { DeliveryTracker, type PostCounts } from '../delivery-tracker.js';
import type { LatencySummary } from '../latency-samples.js';
import { messageText } from '../message-text.js';
import { CpuSampler, type CpuUsage } from '../process-cpu.js';
import { RedisStats, type RedisPerMessage } from '../redis-stats.js';
import type { RunContext } from '../run-context.js';
import { createConversations } from '../topology.js';

export interface WritesReport {
  seconds: number;
  concurrency: number;
  conversations: number;
  posts: PostCounts;
  acceptedPerSecond: number;
  /** Of the POST, until its answer was read, in ms. */
  postLatency: LatencySummary;
  cpu: CpuUsage;
  redis: RedisPerMessage | undefined;
}

/**
 * Closed loop: `concurrency` lanes each POST, wait for the answer, POST again, with no socket
 * anywhere. Measures what one api process accepts (the worker still fans out to nobody).
 */
async function postForSeconds(ctx: RunContext, tracker: DeliveryTracker, name: string, seconds: number, next: () => { conversationId: string; token: string }) {
  const step = tracker.startStep(name);
  const deadline = performance.now() + seconds * 1000;
  let lastProgress = 0;
  const lane = async () => {
    while (performance.now() < deadline && !ctx.signal.aborted) {
      const target = next();
      const nonce = ctx.nonces.next();
      const record = tracker.posted(step, target.conversationId, nonce);
      const outcome = await ctx.api.postMessage(target.conversationId, messageText(nonce, ctx.options.messageBytes), target.token);
      const now = performance.now();
      tracker.settle(record, outcome.status, outcome.errorCode, now);
      if (now - lastProgress > 250) {
        lastProgress = now;
        ctx.progress.update(`${name}: accepted ${step.posts.accepted} errors ${step.posts.errorCount}`);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: ctx.options.writesConcurrency }, () => lane()));
  const elapsed = (performance.now() - started) / 1000;
  tracker.finishStep(step);
  return { step, elapsed };
}

export async function runWritesWorkload(ctx: RunContext): Promise<WritesReport> {
  const { options, progress } = ctx;
  const users = await ctx.users.take(options.users, (done, total) => progress.update(`writes: registered ${done}/${total}`));
  const conversations = await createConversations(ctx, 'writes', users, options.conversations, options.members, 1);
  const tracker = new DeliveryTracker();
  for (const conversation of conversations) tracker.track(conversation.id, []);
  const next = () => {
    const conversation = conversations[Math.floor(ctx.random() * conversations.length)] as { id: string; members: number[] };
    const author = conversation.members[Math.floor(ctx.random() * conversation.members.length)] as number;
    return { conversationId: conversation.id, token: (users[author] as RegisteredUser).token };
  };
  if (options.warmupSeconds > 0) {
    progress.log(`writes: warm-up ${options.warmupSeconds} s`);
    await postForSeconds(ctx, tracker, 'writes warm-up', options.warmupSeconds, next);
  }
  progress.log(`writes: ${options.writesConcurrency} POSTs in flight for ${options.writesSeconds} s, no sockets`);
  const redisBefore = await ctx.redisStats?.snapshot();
  const cpuBefore = ctx.cpu.snapshot();
  ctx.profiles?.start('writes');
  const { step, elapsed } = await postForSeconds(ctx, tracker, 'writes', options.writesSeconds, next);
  ctx.profiles?.stop();
  const cpuAfter = ctx.cpu.snapshot();
  // The worker may still be working off the queue: its Redis work belongs to these messages too.
  await ctx.redisStats?.waitForQuiet(200, 500, 30_000, ctx.signal);
  const redisAfter = await ctx.redisStats?.snapshot();
  const report: WritesReport = {
    seconds: Math.round(elapsed * 100) / 100,
    concurrency: options.writesConcurrency,
    conversations: conversations.length,
    posts: step.posts,
    acceptedPerSecond: Math.round(step.posts.accepted / elapsed),
    postLatency: step.postLatency.summary(),
    cpu: CpuSampler.usage(cpuBefore, cpuAfter),
    redis: redisBefore && redisAfter ? RedisStats.perMessage(redisBefore, redisAfter, step.posts.accepted) : undefined,
  };
  progress.log(
    `  writes: ${report.acceptedPerSecond} accepted/s, POST p50 ${report.postLatency.p50} p99 ${report.postLatency.p99} ms, errors ${report.posts.errorCount}`,
  );
  return report;
}
