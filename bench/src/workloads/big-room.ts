import type { RegisteredUser } from '../api-client.js';
import { DeliveryTracker } from '../delivery-tracker.js';
import { runRamp } from '../posting-step.js';
import type { RunContext } from '../run-context.js';
import { closeSockets, connectSockets, socketEvents, trackConversations } from '../topology.js';
import { highestSustainable, type RampReport } from './chat.js';

/** One conversation of M members over the replicas: every message fans out to M sockets. */
export async function runBigRoomWorkload(ctx: RunContext): Promise<RampReport> {
  const { options, progress, target } = ctx;
  const wsUrls = target.gateways.map((gateway) => gateway.wsUrl);
  progress.log(`bigroom: ${options.bigroomMembers} members`);
  const users = await ctx.users.take(options.bigroomMembers, (done, total) => progress.update(`bigroom: registered ${done}/${total}`));
  const [creator, ...others] = users;
  if (creator === undefined) throw new Error('bigroom needs members');
  const room = await ctx.api.createConversation(creator, 'bigroom', others.map((user) => user.username));
  const members = users.map((_, i) => i);
  const tracker = new DeliveryTracker();
  const problems: string[] = [];
  progress.log(`bigroom: connecting ${users.length} sockets to ${wsUrls.length} replica(s)`);
  const { sockets, seconds } = await connectSockets(ctx, 'bigroom', users, wsUrls, tracker, socketEvents(tracker, problems));
  let ramp: Awaited<ReturnType<typeof runRamp>>;
  try {
    trackConversations(tracker, [{ id: room.id, members }], sockets);
    const next = () => ({
      conversationId: room.id,
      token: (users[Math.floor(ctx.random() * users.length)] as RegisteredUser).token,
    });
    ramp = await runRamp(ctx, tracker, 'bigroom', options.bigroomSteps, (name, rate, stepSeconds) => ({
      name,
      rate,
      seconds: stepSeconds,
      next,
      p99LimitMs: options.bigroomP99Ms,
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
      conversations: 1,
      membersPerConversation: users.length,
      conversationsSpanningReplicas: wsUrls.length > 1 ? 1 : 0,
      socketConnectSeconds: Math.round(seconds * 100) / 100,
    },
    criteria: { maxLost: 0, p99Ms: options.bigroomP99Ms, minAchievedShare: 0.95 },
    ...ramp,
    sustainableRate: best?.targetRate ?? null,
    sustainableDeliveriesPerSecond: best?.deliveredPerSecond ?? null,
    problems,
  };
}
