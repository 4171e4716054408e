import { DEFAULT_DELIVERY_PARTITIONS, MAX_DELIVERY_PARTITIONS, type DeliveryJob } from '@chat/contracts';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { pipelineValues } from './pipeline-results.js';

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
const EVERY_PARTITION = partitionsBelow(MAX_DELIVERY_PARTITIONS);

/** `partitions`: those the caller writes to (the api's DELIVERY_PARTITIONS), which size() counts. */
export function createOutbox(redis: Redis, keys: Keys, partitions = DEFAULT_DELIVERY_PARTITIONS) {
  const written = partitionsBelow(partitions);
  return {
    /** Deliveries accepted and not yet published, across the partitions this caller writes to. */
    async size(): Promise<number> {
      const pipeline = redis.pipeline();
      for (const partition of written) pipeline.zcard(keys.outbox(partition));
      const counts = pipelineValues(await guardRedis(pipeline.exec())) as number[];
      return counts.reduce((sum, count) => sum + count, 0);
    },

    /**
     * The partitions whose oldest entry was accepted before `olderThanMs` ago, among every possible
     * one: whatever count an api was (or is) configured with, nothing it wrote is left behind.
     */
    async overduePartitions(olderThanMs: number): Promise<number[]> {
      const pipeline = redis.pipeline();
      for (const partition of EVERY_PARTITION) pipeline.zrangebyscore(keys.outbox(partition), '-inf', Date.now() - olderThanMs, 'LIMIT', 0, 1);
      const oldest = pipelineValues(await guardRedis(pipeline.exec())) as string[][];
      return EVERY_PARTITION.filter((partition) => (oldest[partition]?.length ?? 0) > 0);
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
