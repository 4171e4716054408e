import type { DeliveryJob } from '@chat/contracts';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';

/**
 * The outbox holds every accepted message until the worker has published it. The api writes the
 * entry in the same script that stores the message, so a crash between storing and enqueueing
 * leaves an entry that a sweeper re-enqueues (job id = message id, so nothing doubles).
 * Entry format: `<conversationId> <seq> <messageId>`.
 */
export function outboxEntry(job: DeliveryJob): string {
  return `${job.conversationId} ${job.seq} ${job.messageId}`;
}

export function parseOutboxEntry(entry: string): DeliveryJob | undefined {
  const [conversationId, seqText, messageId, extra] = entry.split(' ');
  const seq = Number(seqText);
  if (!conversationId || !messageId || extra !== undefined || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  return { conversationId, seq, messageId };
}

export function createOutbox(redis: Redis, keys: Keys) {
  return {
    /** Entries accepted before `olderThanMs` ago and still not published. */
    async overdue(olderThanMs: number, limit: number): Promise<{ entry: string; job: DeliveryJob | undefined }[]> {
      const entries = await guardRedis(
        redis.zrangebyscore(keys.outbox(), '-inf', Date.now() - olderThanMs, 'LIMIT', 0, limit),
      );
      return entries.map((entry) => ({ entry, job: parseOutboxEntry(entry) }));
    },

    async remove(entry: string): Promise<void> {
      await guardRedis(redis.zrem(keys.outbox(), entry));
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
