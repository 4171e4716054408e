import { batchDeliveryEventParts, deliveryEventParts, type DeliveryJob } from '@chat/contracts';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { STORE_SCRIPTS } from './store-scripts.js';
import { CONVERSATION_TOMBSTONE_MS, WAKE_TTL_MS, outboxEntry } from './outbox.js';

/** What one drain of a partition's outbox did (lua/drain-outbox-2.lua). */
export interface DrainOutcome {
  /** Messages, edits and deletions published: one event each, on its conversation's channel. */
  delivered: number;
  /** Members the events named, summed: the deliveries owed to users. */
  recipients: number;
  /**
   * Entries with nothing to publish: their conversation no longer exists or has no member left
   * (or, for an entry of an earlier release that does not carry its message, that message was
   * trimmed from history).
   */
  gone: number;
  /** Entries that could not be read, dropped. */
  malformed: number;
  /** The batch was full (`limit` entries): more may be owed. */
  more: boolean;
  /** The wake flag was kept (stayAwake and entries taken): the caller must drain again. */
  awake: boolean;
  /** With `report`: the events published (@chat/contracts decodeDeliveryEvent reads them). */
  events?: string[];
  /**
   * Entries left in the outbox because their conversation was not found and not deleted: on Redis
   * Cluster, keys on their way to another node. A later drain (the next message's, or the sweeper's) takes them.
   */
  waiting: number;
}

/** What delivering one legacy per-message job did. */
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

/** How a drain treats the partition's wake flag, and what it reports. */
export interface DrainOptions {
  /**
   * Keep the wake flag when entries were taken, instead of clearing it; the caller MUST then drain
   * again: messages appended meanwhile enqueue no job of their own. 'renew' sets the flag's TTL
   * anew, 'keep' leaves it as it is (one command less, for a caller that renewed it recently).
   */
  stayAwake?: 'renew' | 'keep';
  /**
   * With stayAwake (ignored without it): keep a flag that is still set also when nothing was
   * taken, so the caller lingers through a quiet spell (and MUST drain again as above).
   */
  evenIfIdle?: boolean;
  /** The outcome carries the events published (offline notifications). */
  report?: boolean;
}

export function createDeliveryStore(redis: Redis, keys: Keys) {
  const { separator, memberSeparator, beforeMessage, beforeUpdated, beforeTitle, after } = batchDeliveryEventParts();
  return {
    /**
     * Publishes up to `limit` of the partition's oldest owed messages, each once on its
     * conversation's channel naming its current members, and clears the partition's wake flag
     * (lua/drain-outbox-2.lua); `options` (DrainOptions) may keep the flag or report the events.
     */
    async drain(partition: number, limit: number, options: DrainOptions = {}): Promise<DrainOutcome> {
      const { stayAwake, report = false } = options;
      const evenIfIdle = stayAwake !== undefined && options.evenIfIdle === true;
      const { prefix, membersSuffix, messagesSuffix, tombstoneSuffix, deliveryHeaderSuffix, channelPrefix } = keys.conversationKeyParts(partition);
      const [delivered, recipients, gone, malformed, more, awake, waiting, events] = await guardRedis(
        STORE_SCRIPTS.drainOutbox.run(
          redis,
          [keys.outbox(partition), keys.wake(partition)],
          [
            limit,
            prefix,
            membersSuffix,
            messagesSuffix,
            channelPrefix,
            separator,
            beforeMessage,
            beforeTitle,
            after,
            stayAwake === 'renew' ? WAKE_TTL_MS : stayAwake === 'keep' ? -1 : 0,
            memberSeparator,
            keys.publishCommand,
            tombstoneSuffix,
            Date.now(),
            CONVERSATION_TOMBSTONE_MS,
            beforeUpdated,
            report ? '1' : '0',
            deliveryHeaderSuffix,
            evenIfIdle ? '1' : '0',
          ],
        ),
      );
      const outcome: DrainOutcome = { delivered, recipients, gone, malformed, more: more === 1, awake: awake === 1, waiting };
      if (events) outcome.events = events;
      return outcome;
    },

    /**
     * Publishes the message of a legacy per-message `job` (accepted before partitioned outboxes)
     * once, naming every current member (lua/deliver-message-4.lua on the old outbox).
     */
    async deliverLegacy(job: DeliveryJob): Promise<DeliveryOutcome> {
      const { conversationId, seq } = job;
      const parts = deliveryEventParts(conversationId, seq);
      const reply = await guardRedis(
        STORE_SCRIPTS.deliverMessage.run(
          redis,
          [keys.messages(conversationId), keys.conversation(conversationId), keys.members(conversationId), keys.legacyOutbox()],
          [
            seq,
            outboxEntry(job),
            keys.conversationChannel(conversationId),
            parts.head,
            parts.beforeMessage,
            parts.beforeTitle,
            parts.after,
            parts.separator,
            parts.memberSeparator,
          ],
        ),
      );
      return outcomeOf(reply);
    },
  };
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
