import { randomBytes } from 'node:crypto';
import { NotFoundError, RateLimitedError, type DrainJob, type Message } from '@chat/contracts';
import type { ChainableCommander } from 'ioredis';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { pipelineValues } from './pipeline-results.js';
import { STORE_SCRIPTS, type AppendArgs, type AppendKeys } from './store-scripts.js';
import { WAKE_TTL_MS, outboxEntry } from './outbox.js';
import { retryAfterSeconds, type RateCharge } from './rate-limiter.js';
import { waitForReplicas } from './replica-wait.js';

export function newMessageId(): string {
  return randomBytes(12).toString('base64url');
}

export interface MessagePage {
  /** Message JSON exactly as stored, ascending seq. */
  raw: string[];
  nextAfter: number | null;
}

export interface MessagePageBefore {
  /** Message JSON exactly as stored, ascending seq. */
  raw: string[];
  nextBefore: number | null;
}

export interface HistorySlice {
  raw: string[];
  title: string;
  /** The conversation's last seq now (0 when it has none or does not exist). */
  lastSeq: number;
}

function splitAround(template: string, marker: string): [string, string] {
  const at = template.indexOf(marker);
  return [template.slice(0, at), template.slice(at + marker.length)];
}

export interface MessageStoreSettings {
  /** Messages kept per conversation; 0 keeps everything. */
  historyLimit: number;
  /** Replicas that must confirm a stored message before append() resolves (REDIS_WAIT_REPLICAS); 0: none. */
  waitReplicas?: number;
  waitTimeoutMs?: number;
}

const DEFAULT_SETTINGS: MessageStoreSettings = { historyLimit: 0 };

type AppendReply = Awaited<ReturnType<typeof STORE_SCRIPTS.appendMessage.run>>;

export function createMessageStore(redis: Redis, keys: Keys, settings: MessageStoreSettings = DEFAULT_SETTINGS) {
  /**
   * The rows `read` asks for from the conversation's messages (WITHSCORES: message, seq, …), for a
   * member only (NotFoundError otherwise), in one round trip with the membership check.
   */
  async function rowsForMember(
    conversationId: string,
    asUser: string,
    read: (pipeline: ChainableCommander, messages: string) => ChainableCommander,
  ): Promise<string[]> {
    const pipeline = redis.pipeline().zscore(keys.members(conversationId), asUser);
    const [joinedAt, rows] = pipelineValues(await guardRedis(read(pipeline, keys.messages(conversationId)).exec())) as [string | null, string[]];
    if (joinedAt === null) throw new NotFoundError('no such conversation');
    return rows;
  }

  /**
   * The append script, after counting the author's rate-limit hit when charged. On one Redis the
   * hit is counted in the same script (one round trip, nothing counted unless it runs). On a
   * cluster the counter lives in the author's slot and the conversation in its partition's: the
   * hit is counted first, then the message appended. Like every other request of the user, a post
   * that turns out not to be a member's still counts (as in the one-script path).
   */
  async function appendCharged(scriptKeys: AppendKeys, args: AppendArgs, charge: RateCharge | undefined): Promise<AppendReply> {
    if (!charge) return STORE_SCRIPTS.appendMessage.run(redis, scriptKeys, args);
    if (!keys.clustered) {
      return STORE_SCRIPTS.appendChargedMessage.run(redis, [...scriptKeys, charge.key], [...args, charge.limit, charge.windowMs]);
    }
    const [count, ttl] = await STORE_SCRIPTS.countRateHit.run(redis, [charge.key], [charge.windowMs, charge.limit]);
    if (count > charge.limit) return [-1, ttl, 0];
    return STORE_SCRIPTS.appendMessage.run(redis, scriptKeys, args);
  }

  return {
    /**
     * Stores a message from a member. With `charge`, the author's rate-limit hit is counted in the
     * before anything is written: RateLimitedError when it is used up. `drain` is the job to
     * enqueue when this message woke its partition; without it a pending drain carries it. With
     * waitReplicas, resolves only once that many replicas have it (ReplicasNotConfirmedError, a
     * 503, when they do not in time: the message is stored and will be delivered all the same).
     */
    async append(
      conversationId: string,
      author: string,
      text: string,
      charge?: RateCharge,
    ): Promise<{ message: Message; drain: DrainJob | undefined }> {
      const id = newMessageId();
      // One clock reading: the outbox entry's score (the event's acceptedAt) equals createdAt.
      const acceptedAtMs = Date.now();
      const createdAt = new Date(acceptedAtMs).toISOString();
      const SEQ = 0x5e9; // placeholder, replaced by the script's seq
      const [head, tail] = splitAround(
        JSON.stringify({ id, conversationId, seq: SEQ, author, text, createdAt }),
        `"seq":${SEQ}`,
      );
      const [entryHead, entryTail] = splitAround(outboxEntry({ conversationId, seq: SEQ, messageId: id }), ` ${SEQ} `);
      const partition = keys.partitionOf(conversationId);
      const scriptKeys: AppendKeys = [
        keys.conversation(conversationId),
        keys.members(conversationId),
        keys.messages(conversationId),
        keys.outbox(partition),
        keys.wake(partition),
      ];
      const args: AppendArgs = [author, `${head}"seq":`, tail, `${entryHead} `, ` ${entryTail}`, acceptedAtMs, settings.historyLimit, WAKE_TTL_MS];
      const [outcome, value, woke] = await guardRedis(appendCharged(scriptKeys, args, charge));
      if (outcome === -1) {
        throw new RateLimitedError('too many requests; slow down', retryAfterSeconds(value));
      }
      if (outcome !== 1) throw new NotFoundError('no such conversation');
      const seq = value;
      await waitForReplicas(redis, scriptKeys[0], settings.waitReplicas ?? 0, settings.waitTimeoutMs ?? 1000);
      return {
        message: { id, conversationId, seq, author, text, createdAt },
        drain: woke === 1 ? { partition } : undefined,
      };
    },

    /** A page of history for a member: messages with seq > after, at most `limit`. */
    async page(conversationId: string, asUser: string, after: number, limit: number): Promise<MessagePage> {
      // One more than asked for says whether more follow.
      const rows = await rowsForMember(conversationId, asUser, (pipeline, messages) =>
        pipeline.zrangebyscore(messages, `(${after}`, '+inf', 'WITHSCORES', 'LIMIT', 0, limit + 1),
      );
      const raw: string[] = [];
      let lastSeq = after;
      for (let i = 0; i < rows.length && raw.length < limit; i += 2) {
        raw.push(rows[i] as string);
        lastSeq = Number(rows[i + 1]);
      }
      const more = rows.length / 2 > limit;
      return { raw, nextAfter: more ? lastSeq : null };
    },

    /**
     * A page of history for a member, read backwards: the newest `limit` messages with seq < before
     * (a `before` past the last seq reads the newest page), ascending.
     */
    async pageBefore(conversationId: string, asUser: string, before: number, limit: number): Promise<MessagePageBefore> {
      // Newest first, one more than asked for: it says whether older messages exist.
      const rows = await rowsForMember(conversationId, asUser, (pipeline, messages) =>
        pipeline.zrevrangebyscore(messages, `(${before}`, '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 1),
      );
      const count = Math.min(rows.length / 2, limit);
      const raw: string[] = [];
      for (let i = 2 * (count - 1); i >= 0; i -= 2) raw.push(rows[i] as string);
      const more = rows.length / 2 > limit;
      return { raw, nextBefore: more ? Number(rows[2 * count - 1]) : null };
    },

    /**
     * Messages with after < seq <= until (or everything after `after`), at most `limit`, with the
     * conversation's current title: what a gateway replays on resume or to close a gap.
     */
    async history(conversationId: string, after: number, until: number | undefined, limit: number): Promise<HistorySlice> {
      // The seq is read first: a message appended in between shows up in rows, never as a hole.
      const [[title, lastSeq], rows] = pipelineValues(
        await guardRedis(
          redis
            .pipeline()
            .hmget(keys.conversation(conversationId), 'title', 'seq')
            .zrangebyscore(keys.messages(conversationId), `(${after}`, until ?? '+inf', 'LIMIT', 0, limit)
            .exec(),
        ),
      ) as [[string | null, string | null], string[]];
      return { raw: rows, title: title ?? '', lastSeq: Number(lastSeq ?? 0) };
    },

    /**
     * What a socket of `username` that became ready at `sinceMs` is owed in a conversation it has
     * not seen yet: messages with seq < beforeSeq (or any) accepted at or after `sinceMs` and after
     * the user joined, ascending, at most `maxCount`. Reads backwards from the newest in pages and
     * stops at the first message that is not owed.
     */
    async recentSince(
      conversationId: string,
      username: string,
      beforeSeq: number | undefined,
      sinceMs: number,
      maxCount = 1000,
    ): Promise<HistorySlice> {
      const PAGE = 100;
      const newestFirst: string[] = [];
      let slice: HistorySlice = { raw: [], title: '', lastSeq: 0 };
      for (let offset = 0; ; offset += PAGE) {
        const [joinedAt, [title, lastSeq], rows] = pipelineValues(
          await guardRedis(
            redis
              .pipeline()
              .zscore(keys.members(conversationId), username)
              .hmget(keys.conversation(conversationId), 'title', 'seq')
              .zrevrangebyscore(keys.messages(conversationId), beforeSeq === undefined ? '+inf' : `(${beforeSeq}`, '-inf', 'LIMIT', offset, PAGE)
              .exec(),
          ),
        ) as [string | null, [string | null, string | null], string[]];
        slice = { raw: newestFirst, title: title ?? '', lastSeq: Number(lastSeq ?? 0) };
        if (joinedAt === null) break;
        let older = false;
        for (const raw of rows) {
          const message = JSON.parse(raw) as Message;
          if (message.seq <= Number(joinedAt) || Date.parse(message.createdAt) < sinceMs) {
            older = true;
            break;
          }
          newestFirst.push(raw);
        }
        if (older || rows.length < PAGE || newestFirst.length >= maxCount) break;
      }
      newestFirst.reverse();
      return slice;
    },
  };
}

export type MessageStore = ReturnType<typeof createMessageStore>;
