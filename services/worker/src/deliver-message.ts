import { UnrecoverableError } from 'bullmq';
import { deliveryJobSchema, type DeliveryJob } from '@chat/contracts';
import { outboxEntry, pipelineValues, guardRedis, type Keys, type MessageStore, type Redis } from '@chat/store';
import type { Logger } from '@chat/logger';
import { buildDeliveryEvent } from './build-summary.js';

export interface DeliverMessageDeps {
  redis: Redis;
  keys: Keys;
  messages: MessageStore;
  logger: Logger;
  onPublished: (recipients: number) => void;
}

/**
 * The job processor: reads the message, its title and the current members in one round trip, then
 * publishes the event on each member's channel and clears the outbox entry in one pipeline. Only
 * gateways that hold a member's socket are subscribed to that member's channel.
 */
export function createDeliverMessage(deps: DeliverMessageDeps) {
  return async function deliverMessage(data: unknown): Promise<number> {
    const parsed = deliveryJobSchema.safeParse(data);
    // A payload that can never succeed is not retried.
    if (!parsed.success) throw new UnrecoverableError('malformed delivery job');
    const job: DeliveryJob = parsed.data;

    const input = await deps.messages.deliveryInput(job);
    const pipeline = deps.redis.pipeline();
    let recipients = 0;
    if (input.raw !== undefined && input.title !== undefined) {
      const event = buildDeliveryEvent(input.raw, input.title);
      for (const member of input.members) pipeline.publish(deps.keys.userChannel(member), event);
      recipients = input.members.length;
    } else {
      deps.logger.debug({ conversationId: job.conversationId, seq: job.seq }, 'message no longer stored; nothing to deliver');
    }
    pipeline.zrem(deps.keys.outbox(), outboxEntry(job));
    pipelineValues(await guardRedis(pipeline.exec()));
    deps.onPublished(recipients);
    return recipients;
  };
}
