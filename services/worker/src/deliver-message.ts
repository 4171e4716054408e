import { UnrecoverableError } from 'bullmq';
import { deliveryJobSchema } from '@chat/contracts';
import type { DeliveryStore } from '@chat/store';
import type { Logger } from '@chat/logger';
import { buildDeliveryEvent } from './build-summary.js';

export interface DeliverMessageDeps {
  deliveries: DeliveryStore;
  logger: Logger;
  onPublished: (recipients: number) => void;
}

/**
 * The job processor: reads the message and its title in one round trip, then publishes the event
 * on each current member's channel and clears the outbox entry in one atomic script. Only
 * gateways that hold a member's socket are subscribed to that member's channel.
 */
export function createDeliverMessage(deps: DeliverMessageDeps) {
  return async function deliverMessage(data: unknown): Promise<number> {
    const parsed = deliveryJobSchema.safeParse(data);
    // A payload that can never succeed is not retried.
    if (!parsed.success) throw new UnrecoverableError('malformed delivery job');
    const job = parsed.data;

    const source = await deps.deliveries.read(job);
    if (source.raw === undefined || source.title === undefined) {
      deps.logger.debug({ conversationId: job.conversationId, seq: job.seq }, 'message no longer stored; nothing to deliver');
      await deps.deliveries.skip(job);
      return 0;
    }
    const recipients = await deps.deliveries.publish(job, buildDeliveryEvent(source.raw, source.title));
    deps.onPublished(recipients);
    return recipients;
  };
}
