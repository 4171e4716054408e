import type { RegisteredUser } from '../api-client.js';
import type { BenchSocket } from '../bench-socket.js';
import { DeliveryTracker } from '../delivery-tracker.js';
import { runRamp, type StepResult } from '../posting-step.js';
import type { RunContext } from '../run-context.js';
import { closeSockets, connectSockets, socketEvents, trackConversations } from '../topology.js';

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

/** A conversation the workload posts to; members are indexes into its users. */
export interface RampConversation {
  id: string;
  members: number[];
}

export interface ConversationRampSpec {
  /** Names the workload in progress lines and step names. */
  label: string;
  users: RegisteredUser[];
  conversations: RampConversation[];
  /** msg/s of each step. */
  rates: number[];
  /** A step is sustainable with delivery p99 at most this. */
  p99Ms: number;
}

/** Picks a random conversation and a random member of it as the author. */
function randomPoster(ctx: RunContext, conversations: RampConversation[], users: RegisteredUser[]) {
  return () => {
    const conversation = conversations[Math.floor(ctx.random() * conversations.length)] as RampConversation;
    const author = conversation.members[Math.floor(ctx.random() * conversation.members.length)] as number;
    return { conversationId: conversation.id, token: (users[author] as RegisteredUser).token };
  };
}

function highestSustainable(steps: StepResult[]): StepResult | undefined {
  return steps.filter((step) => step.sustainable).sort((a, b) => b.targetRate - a.targetRate)[0];
}

/**
 * What the chat and big-room workloads share: one socket per user over the replicas (user i on
 * replica i mod R), random members posting open-loop to random conversations in rising steps,
 * every delivery accounted per socket, and the report of the ramp.
 */
export async function runConversationRamp(ctx: RunContext, spec: ConversationRampSpec): Promise<RampReport> {
  const { options, progress, target } = ctx;
  const { label, users, conversations } = spec;
  const wsUrls = target.gateways.map((gateway) => gateway.wsUrl);
  const tracker = new DeliveryTracker();
  const problems: string[] = [];
  progress.log(`${label}: connecting ${users.length} sockets to ${wsUrls.length} replica(s)`);
  const { sockets, seconds } = await connectSockets(ctx, label, users, wsUrls, tracker, socketEvents(tracker, problems));
  let ramp: Awaited<ReturnType<typeof runRamp>>;
  try {
    trackConversations(tracker, conversations, sockets);
    const next = randomPoster(ctx, conversations, users);
    ramp = await runRamp(ctx, tracker, label, spec.rates, (name, rate, stepSeconds) => ({
      name,
      rate,
      seconds: stepSeconds,
      next,
      p99LimitMs: spec.p99Ms,
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
      membersPerConversation: Math.max(0, ...conversations.map((conversation) => conversation.members.length)),
      conversationsSpanningReplicas: conversations.filter(
        (conversation) => new Set(conversation.members.map((member) => (sockets[member] as BenchSocket).replica)).size > 1,
      ).length,
      socketConnectSeconds: Math.round(seconds * 100) / 100,
    },
    criteria: { maxLost: 0, p99Ms: spec.p99Ms, minAchievedShare: 0.95 },
    ...ramp,
    sustainableRate: best?.targetRate ?? null,
    sustainableDeliveriesPerSecond: best?.deliveredPerSecond ?? null,
    problems,
  };
}
