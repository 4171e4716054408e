import type { RunContext } from '../run-context.js';
import { createConversations } from '../topology.js';
import { runConversationRamp, type RampReport } from './conversation-ramp.js';

/**
 * Many small conversations spread over the replicas: N users, one socket each (user i on replica
 * i mod R), C conversations of M random members, open-loop posting in rising steps.
 */
export async function runChatWorkload(ctx: RunContext): Promise<RampReport> {
  const { options, progress, target } = ctx;
  progress.log(`chat: registering ${options.users} users`);
  const users = await ctx.users.take(options.users, (done, total) => progress.update(`chat: registered ${done}/${total}`));
  const conversations = await createConversations(ctx, 'chat', users, options.conversations, options.members, target.gateways.length);
  return runConversationRamp(ctx, { label: 'chat', users, conversations, rates: options.steps, p99Ms: options.chatP99Ms });
}
