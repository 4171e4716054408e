import type { RunContext } from '../run-context.js';
import { runConversationRamp, type RampReport } from './conversation-ramp.js';

/** One conversation of M members over the replicas: every message fans out to M sockets. */
export async function runBigRoomWorkload(ctx: RunContext): Promise<RampReport> {
  const { options, progress } = ctx;
  progress.log(`bigroom: ${options.bigroomMembers} members`);
  const users = await ctx.users.take(options.bigroomMembers, (done, total) => progress.update(`bigroom: registered ${done}/${total}`));
  const [creator, ...others] = users;
  if (creator === undefined) throw new Error('bigroom needs members');
  const room = await ctx.api.createConversation(creator, 'bigroom', others.map((user) => user.username));
  return runConversationRamp(ctx, {
    label: 'bigroom',
    users,
    conversations: [{ id: room.id, members: users.map((_, i) => i) }],
    rates: options.bigroomSteps,
    p99Ms: options.bigroomP99Ms,
  });
}
