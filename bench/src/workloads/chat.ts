import type { RegisteredUser } from '../api-client.js';
import type { BenchSocket } from '../bench-socket.js';
import { DeliveryTracker } from '../delivery-tracker.js';
import { runRamp, type StepResult } from '../posting-step.js';
import type { RunContext } from '../run-context.js';
import { closeSockets, connectSockets, createConversations, socketEvents, trackConversations } from '../topology.js';

export interface RampReport {
  setup: {
    users: number;
    sockets: number;
    replicas: number;
    conversations: number;
    membersPerConversation: number;
    /** Conversations whose members sit on more than one replica. */
    conversationsSpanningReplicas: number;
    socketConnectSeconds: number;
  };
  criteria: { maxLost: 0; p99Ms: number; minAchievedShare: 0.95 };
  warmup: StepResult | undefined;
  steps: StepResult[];
  stoppedEarly: boolean;
  /** The highest sustainable step's rate (msg/s), or null. */
  sustainableRate: number | null;
  /** Its deliveries per second. */
  sustainableDeliveriesPerSecond: number | null;
  /** Socket closes and error frames seen (first 20). */
  problems: string[];
}

/** Picks a random conversation and a random member of it as the author. */
function randomPoster(ctx: RunContext, conversations: { id: string; members: number[] }[], users: RegisteredUser[]) {
  return () => {
    const conversation = conversations[Math.floor(ctx.random() * conversations.length)] as { id: string; members: number[] };
    const author = conversation.members[Math.floor(ctx.random() * conversation.members.length)] as number;
    return { conversationId: conversation.id, token: (users[author] as RegisteredUser).token };
  };
}

export function highestSustainable(steps: StepResult[]): StepResult | undefined {
  return steps.filter((step) => step.sustainable).sort((a, b) => b.targetRate - a.targetRate)[0];
}

/**
 * Many small conversations spread over the replicas: N users, one socket each (user i on replica
 * i mod R), C conversations of M random members, open-loop posting in rising steps.
 */
export async function runChatWorkload(ctx: RunContext): Promise<RampReport> {
  const { options, progress, target } = ctx;
  const wsUrls = target.gateways.map((gateway) => gateway.wsUrl);
  progress.log(`chat: registering ${options.users} users`);
  const users = await ctx.users.take(options.users, (done, total) => progress.update(`chat: registered ${done}/${total}`));
  const conversations = await createConversations(ctx, 'chat', users, options.conversations, options.members, wsUrls.length);
  const tracker = new DeliveryTracker();
  const problems: string[] = [];
  progress.log(`chat: connecting ${users.length} sockets to ${wsUrls.length} replica(s)`);
  const { sockets, seconds } = await connectSockets(ctx, 'chat', users, wsUrls, tracker, socketEvents(tracker, problems));
  let ramp: Awaited<ReturnType<typeof runRamp>>;
  try {
    trackConversations(tracker, conversations, sockets);
    const next = randomPoster(ctx, conversations, users);
    ramp = await runRamp(ctx, tracker, 'chat', options.steps, (name, rate, stepSeconds) => ({
      name,
      rate,
      seconds: stepSeconds,
      next,
      p99LimitMs: options.chatP99Ms,
    }));
  } finally {
    await closeSockets(sockets, options.connectConcurrency);
  }
  const best = highestSustainable(ramp.steps);
  return {
    setup: {
      users: users.length,
      sockets: sockets.length,
      replicas: wsUrls.length,
      conversations: conversations.length,
      membersPerConversation: options.members,
      conversationsSpanningReplicas: conversations.filter(
        (conversation) => new Set(conversation.members.map((member) => (sockets[member] as BenchSocket).replica)).size > 1,
      ).length,
      socketConnectSeconds: Math.round(seconds * 100) / 100,
    },
    criteria: { maxLost: 0, p99Ms: options.chatP99Ms, minAchievedShare: 0.95 },
    ...ramp,
    sustainableRate: best?.targetRate ?? null,
    sustainableDeliveriesPerSecond: best?.deliveredPerSecond ?? null,
    problems,
  };
}
