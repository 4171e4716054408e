import { createHash } from 'node:crypto';
import {
  CLIENT_ID_TTL_MS,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  type DrainJob,
  type Message,
} from '@chat/contracts';
import type { ChainableCommander } from 'ioredis';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { pipelineValues } from './pipeline-results.js';
import { randomId } from './random-ids.js';
import { authoredSeqField } from './read-cursor.js';
import { STORE_SCRIPTS, type AppendArgs, type AppendKeys } from './store-scripts.js';
import { WAKE_TTL_MS, outboxEntry, updateEntryHead } from './outbox.js';
import { retryAfterSeconds, type RateCharge } from './rate-limiter.js';
import { waitForReplicas } from './replica-wait.js';

export function newMessageId(): string {
  return randomId();
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
  /** The conversation's rev, read before the messages (0 when it has none or does not exist). */
  rev: number;
}

/** Messages changed within a range of revs (changesBetween). */
export interface ChangeSlice {
  /** Ascending rev: each message's rev and its JSON exactly as stored. */
  changes: { rev: number; raw: string }[];
  title: string;
  lastSeq: number;
  /** The conversation's rev, read with the changes. */
  rev: number;
  /** The rev up to which the range was looked at: the next read starts after it. */
  readUntil: number;
  /** The read stopped at its limit: more changes may follow readUntil. */
  more: boolean;
}

/** An edit (`text`) or a deletion (`delete`). */
export type MessageChange = { text: string } | 'delete';

/** Placeholders JSON.stringify writes where the script puts the seq and the rev. */
const SEQ_MARK = 0x5e9;
const REV_MARK = 0x5ea;
/** Rounds of read-then-write an edit tries while other edits of the same message win. */
const CHANGE_ATTEMPTS = 5;

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
     * same script on one Redis, before anything is written (on a cluster just before it, see
     * appendCharged): RateLimitedError when it is used up. `drain` is the job to enqueue when this
     * message woke its partition; without it a pending drain carries it.
     * With a `clientId` the author used here before (within CLIENT_ID_TTL_MS), nothing is stored:
     * `repeated` is true and `message` is the one stored the first time; ConflictError when the
     * text differs from the first one's. With waitReplicas, resolves only once that many replicas
     * have it (ReplicasNotConfirmedError, a 503, when they do not in time: the message is stored
     * and will be delivered all the same, and a retry with its clientId answers 200).
     */
    async append(
      conversationId: string,
      author: string,
      text: string,
      charge?: RateCharge,
      clientId?: string,
    ): Promise<{ message: Message; drain: DrainJob | undefined; repeated: boolean }> {
      const id = newMessageId();
      // One clock reading: the outbox entry's score (the event's acceptedAt) equals createdAt.
      const acceptedAtMs = Date.now();
      const createdAt = new Date(acceptedAtMs).toISOString();
      // The script writes `seq,"rev":rev` between head and tail.
      const [head, tail] = splitAround(
        JSON.stringify({ id, conversationId, seq: SEQ_MARK, rev: REV_MARK, author, text, createdAt, clientId }),
        `"seq":${SEQ_MARK},"rev":${REV_MARK}`,
      );
      const [entryHead, entryTail] = splitAround(outboxEntry({ conversationId, seq: SEQ_MARK, messageId: id }), ` ${SEQ_MARK} `);
      const partition = keys.partitionOf(conversationId);
      const scriptKeys: AppendKeys = [
        keys.conversation(conversationId),
        keys.members(conversationId),
        keys.messages(conversationId),
        keys.outbox(partition),
        keys.wake(partition),
        // Ignored by the script without a clientId; any key of the conversation's slot would do.
        keys.clientId(conversationId, author, clientId ?? ''),
        keys.revs(conversationId),
      ];
      // The repeat of a clientId must carry the same text: its digest is kept, not the text.
      const fingerprint = clientId === undefined ? '' : createHash('sha256').update(text).digest('base64url');
      const args: AppendArgs = [
        author,
        `${head}"seq":`,
        tail,
        `${entryHead} `,
        ` ${entryTail}`,
        acceptedAtMs,
        settings.historyLimit,
        WAKE_TTL_MS,
        createdAt,
        clientId ?? '',
        fingerprint,
        CLIENT_ID_TTL_MS,
        authoredSeqField(author),
      ];
      const [outcome, value, woke, extra] = await guardRedis(appendCharged(scriptKeys, args, charge));
      if (outcome === -1) {
        throw new RateLimitedError('too many requests; slow down', retryAfterSeconds(value));
      }
      if (outcome === 2) return { message: JSON.parse(extra as string) as Message, drain: undefined, repeated: true };
      if (outcome === 3) throw new ConflictError('this clientId was sent with another text');
      if (outcome === 4) throw new ConflictError('the message first sent with this clientId is no longer stored');
      if (outcome !== 1) throw new NotFoundError('no such conversation');
      const seq = value;
      await waitForReplicas(redis, scriptKeys[0], settings.waitReplicas ?? 0, settings.waitTimeoutMs ?? 1000);
      const message: Message = { id, conversationId, seq, rev: extra as number, author, text, createdAt };
      if (clientId !== undefined) message.clientId = clientId;
      return { message, drain: woke === 1 ? { partition } : undefined, repeated: false };
    },

    /**
     * Edits or deletes message `seq` for its author: NotFoundError for a non-member or a seq that
     * does not exist, ForbiddenError for another member, ConflictError when editing a tombstone.
     * Deleting a tombstone changes nothing (`changed` false, no drain). Otherwise the new version
     * gets the conversation's next rev and an update entry in the outbox (lua/edit-message-6.lua).
     */
    async change(
      conversationId: string,
      seq: number,
      author: string,
      change: MessageChange,
    ): Promise<{ message: Message; changed: boolean; drain: DrainJob | undefined }> {
      const partition = keys.partitionOf(conversationId);
      for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt += 1) {
        const [raw] = await rowsForMember(conversationId, author, (pipeline, messages) => pipeline.zrangebyscore(messages, seq, seq));
        if (raw === undefined) throw new NotFoundError('no such message');
        const current = JSON.parse(raw) as Message;
        if (current.author !== author) throw new ForbiddenError('only its author can change a message');
        if (current.deletedAt !== undefined) {
          if (change === 'delete') return { message: current, changed: false, drain: undefined };
          throw new ConflictError('the message was deleted');
        }
        const acceptedAtMs = Date.now();
        const at = new Date(acceptedAtMs).toISOString();
        // Spread keeps the stored key order (and any field this release does not know).
        const next: Message =
          change === 'delete' ? { ...current, rev: REV_MARK, text: '', deletedAt: at } : { ...current, rev: REV_MARK, text: change.text, editedAt: at };
        const [head, tail] = splitAround(JSON.stringify(next), `"rev":${REV_MARK}`);
        const [outcome, rev, woke] = await guardRedis(
          STORE_SCRIPTS.editMessage.run(
            redis,
            [
              keys.conversation(conversationId),
              keys.members(conversationId),
              keys.messages(conversationId),
              keys.revs(conversationId),
              keys.outbox(partition),
              keys.wake(partition),
            ],
            [author, seq, raw, `${head}"rev":`, tail, updateEntryHead({ conversationId, seq, messageId: current.id }), acceptedAtMs, WAKE_TTL_MS],
          ),
        );
        if (outcome === 0) throw new NotFoundError('no such conversation');
        if (outcome === 1) {
          await waitForReplicas(redis, keys.conversation(conversationId), settings.waitReplicas ?? 0, settings.waitTimeoutMs ?? 1000);
          return { message: { ...next, rev }, changed: true, drain: woke === 1 ? { partition } : undefined };
        }
        // Changed since it was read (another edit won): decide again from its new version.
      }
      throw new ConflictError('the message is being changed by another request; try again');
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
      // The seq and rev are read first: a message appended or changed in between shows up in
      // rows (with its higher rev), never as a hole.
      const [[title, lastSeq, rev], rows] = pipelineValues(
        await guardRedis(
          redis
            .pipeline()
            .hmget(keys.conversation(conversationId), 'title', 'seq', 'rev')
            .zrangebyscore(keys.messages(conversationId), `(${after}`, until ?? '+inf', 'LIMIT', 0, limit)
            .exec(),
        ),
      ) as [[string | null, string | null, string | null], string[]];
      return { raw: rows, title: title ?? '', lastSeq: Number(lastSeq ?? 0), rev: Number(rev ?? 0) };
    },

    /**
     * Messages whose latest change has a rev in (after, until] (or above after), at most `limit`
     * index entries looked at, only those with seq <= maxSeq when given, ascending rev, in their
     * current version (lua/read-changes-3.lua): a reconnect's `revs` and a gap in live events.
     */
    async changesBetween(
      conversationId: string,
      after: number,
      until: number | undefined,
      maxSeq: number | undefined,
      limit: number,
    ): Promise<ChangeSlice> {
      const reply = await guardRedis(
        STORE_SCRIPTS.readChanges.run(
          redis,
          [keys.conversation(conversationId), keys.messages(conversationId), keys.revs(conversationId)],
          [after, until ?? '+inf', maxSeq ?? '+inf', limit],
        ),
      );
      const [title, rev, lastSeq, scanned, readUntil] = reply;
      const changes: ChangeSlice['changes'] = [];
      for (let i = 5; i < reply.length; i += 2) changes.push({ rev: Number(reply[i]), raw: String(reply[i + 1]) });
      const more = Number(scanned) >= limit;
      return {
        changes,
        title: title === null ? '' : String(title),
        rev: Number(rev),
        lastSeq: Number(lastSeq),
        readUntil: more ? Number(readUntil) : (until ?? Math.max(Number(rev), after)),
        more,
      };
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
      let slice: HistorySlice = { raw: [], title: '', lastSeq: 0, rev: 0 };
      let firstRev: number | undefined;
      for (let offset = 0; ; offset += PAGE) {
        const [joinedAt, [title, lastSeq, rev], rows] = pipelineValues(
          await guardRedis(
            redis
              .pipeline()
              .zscore(keys.members(conversationId), username)
              .hmget(keys.conversation(conversationId), 'title', 'seq', 'rev')
              .zrevrangebyscore(keys.messages(conversationId), beforeSeq === undefined ? '+inf' : `(${beforeSeq}`, '-inf', 'LIMIT', offset, PAGE)
              .exec(),
          ),
        ) as [string | null, [string | null, string | null, string | null], string[]];
        // The rev of the first page: read before every message returned.
        firstRev ??= Number(rev ?? 0);
        slice = { raw: newestFirst, title: title ?? '', lastSeq: Number(lastSeq ?? 0), rev: firstRev };
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
