import { UnrecoverableError } from 'bullmq';
import { deliveryJobSchema } from '@chat/contracts';
import type { DeliveryStore } from '@chat/store';
import type { Logger } from '@chat/logger';

export interface DeliverMessageDeps {
  deliveries: DeliveryStore;
  logger: Logger;
  onPublished: (recipients: number) => void;
}

/**
 * The job processor: one atomic script builds the message's delivery event from the stored
 * message and the conversation's current title, publishes it on each current member's channel
 * (only gateways that hold a member's socket are subscribed to it) and clears the outbox entry.
 */
export function createDeliverMessage(deps: DeliverMessageDeps) {
  return async function deliverMessage(data: unknown): Promise<number> {
    const parsed = deliveryJobSchema.safeParse(data);
    // A payload that can never succeed is not retried.
    if (!parsed.success) throw new UnrecoverableError('malformed delivery job');
    const job = parsed.data;

    const outcome = await deps.deliveries.deliver(job);
    if (outcome.kind !== 'published') {
      deps.logger.debug({ conversationId: job.conversationId, seq: job.seq, outcome: outcome.kind }, 'nothing to publish');
      return 0;
    }
    deps.onPublished(outcome.recipients);
    return outcome.recipients;
  };
}
