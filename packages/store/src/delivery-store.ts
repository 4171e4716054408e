import { MESSAGE_FRAME_PARTS, type DeliveryJob } from '@chat/contracts';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { luaScript, runScript } from './run-script.js';
import { outboxEntry } from './outbox.js';

/**
 * Delivers one accepted message in one atomic step and one round trip:
 * - its outbox entry says it is still owed, and its score is when the api accepted it;
 * - the stored message and the conversation's current title make the frame, by concatenation
 *   (MESSAGE_FRAME_PARTS; the stored JSON is never decoded), behind the event header
 *   `<conversationId> <seq> <acceptedAtMs> `;
 * - the event is published on the channel of every *current* member: reading the members inside
 *   the script orders the publish with membership changes (a member removed before it runs gets
 *   nothing; one added before it gets the message);
 * - the outbox entry is cleared, so a job that runs again (stalled, retried, or re-enqueued by the
 *   sweeper) publishes nothing twice.
 * Returns the number of members published to, -1 when the outbox entry was already cleared, or
 * -2 when the message or its conversation no longer exists; `deliver` turns these into a
 * DeliveryOutcome.
 */
const DELIVER_MESSAGE = luaScript(`
local messages, conv, members, outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local conversationId, seq, entry, channelPrefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local before, beforeTitle, after = ARGV[5], ARGV[6], ARGV[7]
local acceptedAt = redis.call('ZSCORE', outbox, entry)
if not acceptedAt then return -1 end
redis.call('ZREM', outbox, entry)
local stored = redis.call('ZRANGEBYSCORE', messages, seq, seq)[1]
local title = redis.call('HGET', conv, 'title')
if not stored or not title then return -2 end
local event = conversationId .. ' ' .. seq .. ' ' .. acceptedAt .. ' ' .. before .. string.sub(stored, 1, -2)
  .. beforeTitle .. cjson.encode(title) .. after
local users = redis.call('ZRANGE', members, 0, -1)
for _, user in ipairs(users) do
  redis.call('PUBLISH', channelPrefix .. user, event)
end
return #users
`);

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
  const { before, beforeTitle, after } = MESSAGE_FRAME_PARTS;
  return {
    /** Publishes the message of `job` to every current member, once; see DELIVER_MESSAGE. */
    async deliver(job: DeliveryJob): Promise<DeliveryOutcome> {
      const { conversationId } = job;
      const result = await guardRedis(
        runScript(
          redis,
          DELIVER_MESSAGE,
          [keys.messages(conversationId), keys.conversation(conversationId), keys.members(conversationId), keys.outbox()],
          [conversationId, job.seq, outboxEntry(job), keys.userChannelPrefix, before, beforeTitle, after],
        ),
      );
      return outcomeOf(Number(result));
    },
  };
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
