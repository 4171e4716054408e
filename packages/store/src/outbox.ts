import { MAX_DELIVERY_PARTITIONS, type DeliveryJob } from '@chat/contracts';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';

/**
 * The outbox holds every accepted message until the worker has published it: one sorted set per
 * delivery partition, scored by acceptance time. The api writes the entry in the same script that
 * stores the message, so a crash between storing and enqueueing leaves an entry that the sweeper
 * finds (it enqueues a drain of that partition, which publishes each entry once).
 * Entry format: `<conversationId> <seq> <messageId> <message JSON>`, the message as stored (the
 * append script adds it to what outboxEntry() makes; entries of earlier releases lack it). An edit
 * or deletion of message `seq` is an update entry in the same outbox (so the drain publishes it in
 * order with the messages of its conversation): `<conversationId> <seq> <messageId> u <message
 * JSON>`, the message's new version (updateEntryHead() and the edit script).
 */
/**
 * How long a partition's wake flag outlives an api that set it and died before enqueueing the
 * drain, or a worker that kept it for a lingering drain and died: after this the next message
 * enqueues a drain (and the outbox sweeper catches the rest).
 */
export const WAKE_TTL_MS = 2000;

/**
 * How long a deleted conversation's tombstone lives, and how old an outbox entry whose
 * conversation is not found must be before it is dropped as gone: longer than an entry waits for
 * its drain, and than a slot's migration to another cluster node takes (the entry waits meanwhile).
 */
export const CONVERSATION_TOMBSTONE_MS = 3_600_000;

export function outboxEntry(job: DeliveryJob): string {
  return `${job.conversationId} ${job.seq} ${job.messageId}`;
}

/** What the edit script puts before the new version of message `job.seq`. */
export function updateEntryHead(job: DeliveryJob): string {
  return `${outboxEntry(job)} u `;
}

export function parseOutboxEntry(entry: string): DeliveryJob | undefined {
  const [conversationId, seqText, messageId, extra] = entry.split(' ');
  const seq = Number(seqText);
  if (!conversationId || !messageId || extra !== undefined || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  return { conversationId, seq, messageId };
}

const partitionsBelow = (count: number) => Array.from({ length: count }, (_, partition) => partition);

/**
 * Every command here names one partition's outbox: they go out one by one, auto-pipelined (on a
 * cluster each partition has a slot of its own).
 */
export function createOutbox(redis: Redis, keys: Keys) {
  // Those the caller writes to (DELIVERY_PARTITIONS), which size() counts.
  const written = partitionsBelow(keys.partitions);
  // On one Redis the count may differ between apis, or have changed while messages waited: look at
  // every possible partition so nothing is left behind. On a cluster it is fixed (key-layout.ts).
  const swept = partitionsBelow(keys.clustered ? keys.partitions : MAX_DELIVERY_PARTITIONS);
  return {
    /** Deliveries accepted and not yet published, across the partitions this caller writes to. */
    async size(): Promise<number> {
      const counts = await Promise.all(written.map((partition) => guardRedis(redis.zcard(keys.outbox(partition)))));
      return counts.reduce((sum, count) => sum + count, 0);
    },

    /** The partitions whose oldest entry was accepted before `olderThanMs` ago. */
    async overduePartitions(olderThanMs: number): Promise<number[]> {
      const until = Date.now() - olderThanMs;
      const oldest = await Promise.all(
        swept.map((partition) => guardRedis(redis.zrangebyscore(keys.outbox(partition), '-inf', until, 'LIMIT', 0, 1))),
      );
      return swept.filter((partition) => (oldest[partition]?.length ?? 0) > 0);
    },

    /** Entries of the pre-partition outbox accepted before `olderThanMs` ago (legacy per-message jobs). */
    async overdueLegacy(olderThanMs: number, limit: number): Promise<{ entry: string; job: DeliveryJob | undefined }[]> {
      const entries = await guardRedis(
        redis.zrangebyscore(keys.legacyOutbox(), '-inf', Date.now() - olderThanMs, 'LIMIT', 0, limit),
      );
      return entries.map((entry) => ({ entry, job: parseOutboxEntry(entry) }));
    },

    async removeLegacy(entry: string): Promise<void> {
      await guardRedis(redis.zrem(keys.legacyOutbox(), entry));
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
