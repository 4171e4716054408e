import type { RegisteredUser } from '../api-client.js';
import { DeliveryTracker } from '../delivery-tracker.js';
import { MemorySampler, type MemorySample, type ProcessMemory } from '../memory-sample.js';
import { runPostingStep } from '../posting-step.js';
import type { RunContext } from '../run-context.js';
import { startSocketChurn } from '../socket-churn.js';
import { closeSockets, connectSockets, createConversations, socketEvents, trackConversations } from '../topology.js';

export interface SoakSample {
  /** Seconds since the soak's posting began. */
  atSeconds: number;
  /** Messages the soak stored so far. */
  acceptedTotal: number;
  /** Of the interval that ends here (none for the first sample). */
  interval: { achievedRate: number; refused: number; errors: number; lost: number; p99Ms: number } | null;
  redisUsedBytes: number | null;
  /** Growth of used_memory since the start ÷ messages stored since: what a message costs in Redis. */
  redisBytesPerMessage: number | null;
  bullmqKeys: number | null;
  redisKeys: number | null;
  socketsReplaced: number;
  processes: Record<string, ProcessMemory>;
}

export interface SoakReport {
  setup: { users: number; conversations: number; membersPerConversation: number; replicas: number };
  rate: number;
  minutes: number;
  churnPerSecond: number;
  sampleSeconds: number;
  samples: SoakSample[];
  /** Reconnects that failed, socket closes and error frames (first 20). */
  problems: string[];
}

function mb(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '–' : (bytes / 1024 / 1024).toFixed(1);
}

function sampleRow(atSeconds: number, acceptedTotal: number, memory: MemorySample, start: MemorySample, socketsReplaced: number): SoakSample {
  const grown = memory.redisUsedBytes !== null && start.redisUsedBytes !== null ? memory.redisUsedBytes - start.redisUsedBytes : null;
  return {
    atSeconds: Math.round(atSeconds),
    acceptedTotal,
    interval: null,
    redisUsedBytes: memory.redisUsedBytes,
    redisBytesPerMessage: grown === null || acceptedTotal === 0 ? null : Math.round(grown / acceptedTotal),
    bullmqKeys: memory.bullmqKeys,
    redisKeys: memory.redisKeys,
    socketsReplaced,
    processes: memory.processes,
  };
}

/**
 * A long run at a steady rate with sockets coming and going, sampling what could grow without
 * bound: Redis memory per stored message, BullMQ's retained keys, each process's RSS and heap.
 * Whatever grows beyond stored history is a leak.
 */
export async function runSoakWorkload(ctx: RunContext): Promise<SoakReport> {
  const { options, progress, target } = ctx;
  const users = await ctx.users.take(options.users, (done, total) => progress.update(`soak: registered ${done}/${total}`));
  const conversations = await createConversations(ctx, 'soak', users, options.conversations, options.members, target.gateways.length);
  const wsUrls = target.gateways.map((gateway) => gateway.wsUrl);
  const tracker = new DeliveryTracker();
  const problems: string[] = [];
  const note = (what: string) => {
    if (problems.length < 20) problems.push(what);
  };
  const events = socketEvents(tracker, problems);
  const { sockets } = await connectSockets(ctx, 'soak', users, wsUrls, tracker, events);
  const memory = new MemorySampler(target);
  const samples: SoakSample[] = [];
  try {
    trackConversations(tracker, conversations, sockets);
    const next = () => {
      const conversation = conversations[Math.floor(ctx.random() * conversations.length)] as { id: string; members: number[] };
      const author = conversation.members[Math.floor(ctx.random() * conversation.members.length)] as number;
      return { conversationId: conversation.id, token: (users[author] as RegisteredUser).token };
    };
    const start = await memory.sample();
    samples.push(sampleRow(0, 0, start, start, 0));
    const churn = startSocketChurn({ sockets, wsUrls, perSecond: options.soakChurn, tracker, events, random: ctx.random, onProblem: note });
    const startedAt = performance.now();
    const endAt = startedAt + options.soakMinutes * 60_000;
    let acceptedTotal = 0;
    try {
      for (let i = 1; performance.now() < endAt && !ctx.signal.aborted; i += 1) {
        const seconds = Math.min(options.soakSampleSeconds, Math.max(1, (endAt - performance.now()) / 1000));
        const step = await runPostingStep(ctx, tracker, { name: `soak ${i}`, rate: options.soakRate, seconds, next, p99LimitMs: options.chatP99Ms, measured: true });
        acceptedTotal += step.posts.accepted;
        const row = sampleRow((performance.now() - startedAt) / 1000, acceptedTotal, await memory.sample(), start, churn.replaced);
        row.interval = {
          achievedRate: step.achievedRate,
          refused: step.posts.refused,
          errors: step.posts.errorCount,
          lost: step.deliveries.lost,
          p99Ms: step.latency.p99,
        };
        samples.push(row);
        const rss = Object.entries(row.processes).map(([name, usage]) => `${name} ${mb(usage.rssBytes)}`).join(' ');
        progress.log(
          `  soak ${row.atSeconds} s: ${acceptedTotal} stored, p99 ${step.latency.p99} ms, lost ${step.deliveries.lost}, ` +
            `Redis ${mb(row.redisUsedBytes)} MB (${row.redisBytesPerMessage ?? '–'} B/msg), BullMQ keys ${row.bullmqKeys ?? '–'}, RSS MB: ${rss}`,
        );
      }
    } finally {
      await churn.stop();
    }
    if (churn.failed > 0) note(`${churn.failed} reconnect(s) failed`);
  } finally {
    memory.close();
    await closeSockets(sockets, options.connectConcurrency);
  }
  return {
    setup: {
      users: users.length,
      conversations: conversations.length,
      membersPerConversation: Math.max(0, ...conversations.map((conversation) => conversation.members.length)),
      replicas: wsUrls.length,
    },
    rate: options.soakRate,
    minutes: options.soakMinutes,
    churnPerSecond: options.soakChurn,
    sampleSeconds: options.soakSampleSeconds,
    samples,
    problems,
  };
}
