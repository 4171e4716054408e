import { deliveryEventParts, type DeliveryJob } from '@chat/contracts';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { STORE_SCRIPTS } from './store-scripts.js';
import { outboxEntry } from './outbox.js';

/** What delivering one job did. */
export type DeliveryOutcome =
  | { kind: 'published'; recipients: number }
  /** Its outbox entry was already cleared: an earlier run of the job published it. */
  | { kind: 'already_delivered' }
  /** The message (trimmed from history) or its conversation no longer exists. */
  | { kind: 'gone' };

const ALREADY_DELIVERED: DeliveryOutcome = { kind: 'already_delivered' };
const GONE: DeliveryOutcome = { kind: 'gone' };

function outcomeOf(reply: number): DeliveryOutcome {
  if (reply === -1) return ALREADY_DELIVERED;
  if (reply === -2) return GONE;
  return { kind: 'published', recipients: reply };
}

export function createDeliveryStore(redis: Redis, keys: Keys) {
  return {
    /** Publishes the message of `job` to every current member, once (lua/deliver-message-4.lua). */
    async deliver(job: DeliveryJob): Promise<DeliveryOutcome> {
      const { conversationId, seq } = job;
      const { head, beforeMessage, beforeTitle, after } = deliveryEventParts(conversationId, seq);
      const reply = await guardRedis(
        STORE_SCRIPTS.deliverMessage.run(
          redis,
          [keys.messages(conversationId), keys.conversation(conversationId), keys.members(conversationId), keys.outbox()],
          [seq, outboxEntry(job), keys.userChannelPrefix, head, beforeMessage, beforeTitle, after],
        ),
      );
      return outcomeOf(reply);
    },
  };
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
