import type { DeliveryJob } from '@chat/contracts';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { pipelineValues } from './pipeline-results.js';
import { luaScript, runScript } from './run-script.js';
import { outboxEntry } from './outbox.js';

/**
 * Publishes one event on the channel of every current member and clears the outbox entry, in one
 * atomic step. Reading the members inside the script orders the publish with membership changes:
 * a member removed before it runs gets nothing; one added before it gets the message.
 * Returns the number of members published to.
 */
const PUBLISH_TO_MEMBERS = luaScript(`
local members, outbox = KEYS[1], KEYS[2]
local channelPrefix, event, entry = ARGV[1], ARGV[2], ARGV[3]
local users = redis.call('ZRANGE', members, 0, -1)
for _, user in ipairs(users) do
  redis.call('PUBLISH', channelPrefix .. user, event)
end
redis.call('ZREM', outbox, entry)
return #users
`);

export interface DeliverySource {
  /** The stored message JSON, or undefined when it is no longer retained. */
  raw: string | undefined;
  /** Undefined when the conversation no longer exists. */
  title: string | undefined;
}

export function createDeliveryStore(redis: Redis, keys: Keys) {
  return {
    /** The message and its conversation's title, in one round trip. */
    async read(job: DeliveryJob): Promise<DeliverySource> {
      const [rows, title] = pipelineValues(
        await guardRedis(
          redis
            .pipeline()
            .zrangebyscore(keys.messages(job.conversationId), job.seq, job.seq)
            .hget(keys.conversation(job.conversationId), 'title')
            .exec(),
        ),
      ) as [string[], string | null];
      return { raw: rows[0], title: title ?? undefined };
    },

    /** Publishes `event` to every current member and completes the outbox entry. */
    async publish(job: DeliveryJob, event: string): Promise<number> {
      const count = await guardRedis(
        runScript(redis, PUBLISH_TO_MEMBERS, [keys.members(job.conversationId), keys.outbox()], [keys.userChannelPrefix, event, outboxEntry(job)]),
      );
      return Number(count);
    },

    /** Completes the outbox entry of a message that has nothing left to deliver. */
    async skip(job: DeliveryJob): Promise<void> {
      await guardRedis(redis.zrem(keys.outbox(), outboxEntry(job)));
    },
  };
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
