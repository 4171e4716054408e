import { randomBytes } from 'node:crypto';
import { InvalidRequestError, MEMBERSHIP_MARKS, NotFoundError, readNotice, type Conversation, type ReadState } from '@chat/contracts';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { pipelineValues } from './pipeline-results.js';
import { STORE_SCRIPTS } from './store-scripts.js';

export interface ConversationRecord {
  conversation: Conversation;
  /** Last seq handed out; 0 before the first message. */
  lastSeq: number;
}

/** The conversation hash, its members and a user's read cursor (null: none yet) as that user sees them. */
function toConversation(hash: Record<string, string>, members: string[], readCursor: string | null): Conversation {
  const lastSeq = Number(hash.seq ?? 0);
  // A cursor is never above lastSeq unless history went backwards (a restore): unread stays ≥ 0.
  const readSeq = Math.min(Number(readCursor ?? 0), lastSeq);
  return {
    id: hash.id ?? '',
    title: hash.title ?? '',
    users: [...members].sort(),
    createdAt: hash.createdAt ?? '',
    createdBy: hash.createdBy ?? '',
    lastSeq,
    lastMessageAt: hash.lastMessageAt ?? null,
    readSeq,
    unread: lastSeq - readSeq,
  };
}

/** `order=activity`: newest lastMessageAt (else createdAt) first, ties by ascending id. */
function byActivity(a: Conversation, b: Conversation): number {
  const difference = Date.parse(b.lastMessageAt ?? b.createdAt) - Date.parse(a.lastMessageAt ?? a.createdAt);
  if (difference !== 0) return difference;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export type ConversationOrder = 'created' | 'activity';

export function newConversationId(): string {
  return randomBytes(12).toString('base64url');
}

export function createConversationStore(redis: Redis, keys: Keys) {
  // Index keys are `${prefix}:user:${username}:conversations`; the script needs both halves.
  const probe = keys.userConversations('\u0000');
  const [indexPrefix, indexSuffix] = probe.split('\u0000') as [string, string];

  async function read(id: string, asUser: string): Promise<Conversation | undefined> {
    const [joinedAt, hash, members, readCursor] = pipelineValues(
      await guardRedis(
        redis
          .pipeline()
          .zscore(keys.members(id), asUser)
          .hgetall(keys.conversation(id))
          .zrange(keys.members(id), 0, -1)
          .hget(keys.reads(id), asUser)
          .exec(),
      ),
    ) as [string | null, Record<string, string>, string[], string | null];
    if (joinedAt === null || !hash.id) return undefined;
    return toConversation(hash, members, readCursor);
  }

  /**
   * One conversation of the user's list, or undefined when it is gone or they are no longer a
   * member (an index entry may outlive the membership). Three commands, no pipeline: the command
   * connection auto-pipelines those of every conversation of a list into one round trip, and each
   * conversation's commands go to its own node on a cluster.
   */
  async function listEntry(id: string, username: string): Promise<Conversation | undefined> {
    const [hash, members, readCursor] = await Promise.all([
      redis.hgetall(keys.conversation(id)),
      redis.zrange(keys.members(id), 0, -1),
      redis.hget(keys.reads(id), username),
    ]);
    if (!hash.id || !members.includes(username)) return undefined;
    return toConversation(hash, members, readCursor);
  }

  return {
    /** Writes the conversation, its members and every member's index atomically (MULTI), and tells each member's channel. */
    async create(input: { title: string; createdBy: string; users: readonly string[] }): Promise<Conversation> {
      const id = newConversationId();
      const now = new Date();
      const createdAt = now.toISOString();
      const members = [...new Set([input.createdBy, ...input.users])];
      const multi = redis.multi();
      multi.hset(keys.conversation(id), {
        id,
        title: input.title,
        createdAt,
        createdAtMs: now.getTime(),
        createdBy: input.createdBy,
        seq: 0,
      });
      multi.zadd(keys.members(id), ...members.flatMap((user) => [0, user]));
      for (const user of members) multi.zadd(keys.userConversations(user), now.getTime(), id);
      // In the same MULTI: a gateway holding a member's sockets subscribes to the conversation.
      for (const user of members) multi.publish(keys.userChannel(user), `${MEMBERSHIP_MARKS.joined}${id}`);
      pipelineValues(await guardRedis(multi.exec()));
      return {
        id,
        title: input.title,
        users: members.sort(),
        createdAt,
        createdBy: input.createdBy,
        lastSeq: 0,
        lastMessageAt: null,
        readSeq: 0,
        unread: 0,
      };
    },

    /** The conversation, or undefined when it does not exist or `asUser` is not a member. */
    read,

    async require(id: string, asUser: string): Promise<Conversation> {
      const conversation = await read(id, asUser);
      if (!conversation) throw new NotFoundError('no such conversation');
      return conversation;
    },

    /**
     * The user's conversations with their read state: oldest first, or by activity. Two round
     * trips whatever their number (see listEntry).
     */
    async listFor(username: string, order: ConversationOrder = 'created'): Promise<Conversation[]> {
      const ids = await guardRedis(redis.zrange(keys.userConversations(username), 0, -1));
      const entries = await guardRedis(Promise.all(ids.map((id) => listEntry(id, username))));
      const conversations = entries.filter((entry) => entry !== undefined);
      return order === 'activity' ? conversations.sort(byActivity) : conversations;
    },

    /**
     * Moves the user's read cursor forward to `seq` (lua/mark-read-3.lua); when it moved, tells
     * every socket of theirs on their channel. NotFoundError for a non-member, InvalidRequestError
     * for a seq above the conversation's last seq (nothing changed then).
     */
    async markRead(id: string, username: string, seq: number): Promise<ReadState> {
      const [outcome, readSeq, lastSeq] = await guardRedis(
        STORE_SCRIPTS.markRead.run(redis, [keys.conversation(id), keys.members(id), keys.reads(id)], [username, seq]),
      );
      if (outcome === -1) throw new NotFoundError('no such conversation');
      if (outcome === -2) throw new InvalidRequestError(`seq ${seq} is above the conversation's last seq (${lastSeq})`);
      // After the cursor moved, not with it (a user's channel and a conversation's keys never go in
      // one script): a crash between costs the other devices this frame, not the cursor.
      if (outcome === 1) await guardRedis(redis.publish(keys.userChannel(username), readNotice(id, readSeq)));
      return { conversationId: id, readSeq, unread: Math.max(0, lastSeq - readSeq) };
    },

    /** Applies a title and/or a new member list; the caller always stays a member (lua/update-conversation-2.lua). */
    async update(id: string, caller: string, change: { title?: string; users?: readonly string[] }): Promise<Conversation> {
      const applied = await guardRedis(
        STORE_SCRIPTS.updateConversation.run(
          redis,
          [keys.conversation(id), keys.members(id)],
          [
            caller,
            change.title ?? '',
            change.users ? '1' : '0',
            indexPrefix,
            indexSuffix,
            id,
            keys.userChannelPrefix,
            MEMBERSHIP_MARKS.joined,
            MEMBERSHIP_MARKS.left,
            MEMBERSHIP_MARKS.updated,
            ...(change.users ?? []),
          ],
        ),
      );
      if (applied !== 1) throw new NotFoundError('no such conversation');
      const conversation = await read(id, caller);
      if (!conversation) throw new NotFoundError('no such conversation');
      return conversation;
    },

    /**
     * `username` leaves; the last member to leave deletes the conversation and its history
     * (lua/leave-conversation-6.lua). NotFoundError when they are not a member.
     */
    async leave(id: string, username: string): Promise<'left' | 'deleted'> {
      const outcome = await guardRedis(
        STORE_SCRIPTS.leaveConversation.run(
          redis,
          [keys.conversation(id), keys.members(id), keys.messages(id), keys.userConversations(username), keys.reads(id), keys.revs(id)],
          [username, id, keys.userChannel(username), MEMBERSHIP_MARKS.left, keys.userChannelPrefix, MEMBERSHIP_MARKS.updated],
        ),
      );
      if (outcome === 0) throw new NotFoundError('no such conversation');
      return outcome === 2 ? 'deleted' : 'left';
    },

    /** The ids of the user's conversations, oldest first. */
    async idsOf(username: string): Promise<string[]> {
      return guardRedis(redis.zrange(keys.userConversations(username), 0, -1));
    },

    /** Whether `username` is a member of each conversation, in one round trip. */
    async memberships(username: string, ids: readonly string[]): Promise<boolean[]> {
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.zscore(keys.members(id), username);
      return pipelineValues(await guardRedis(pipeline.exec())).map((joinedAt) => joinedAt !== null);
    },
  };
}

export type ConversationStore = ReturnType<typeof createConversationStore>;
