import { randomBytes } from 'node:crypto';
import { MEMBERSHIP_MARKS, NotFoundError, type Conversation } from '@chat/contracts';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { pipelineValues } from './pipeline-results.js';
import { STORE_SCRIPTS } from './store-scripts.js';
import { CONVERSATION_TOMBSTONE_MS } from './outbox.js';

export interface ConversationRecord {
  conversation: Conversation;
  /** Last seq handed out; 0 before the first message. */
  lastSeq: number;
}

function toConversation(hash: Record<string, string>, members: string[]): Conversation {
  return {
    id: hash.id ?? '',
    title: hash.title ?? '',
    users: [...members].sort(),
    createdAt: hash.createdAt ?? '',
    createdBy: hash.createdBy ?? '',
  };
}

export function newConversationId(): string {
  return randomBytes(12).toString('base64url');
}

export function createConversationStore(redis: Redis, keys: Keys) {
  async function read(id: string, asUser: string): Promise<Conversation | undefined> {
    const [joinedAt, hash, members] = pipelineValues(
      await guardRedis(
        redis.pipeline().zscore(keys.members(id), asUser).hgetall(keys.conversation(id)).zrange(keys.members(id), 0, -1).exec(),
      ),
    ) as [string | null, Record<string, string>, string[]];
    if (joinedAt === null || !hash.id) return undefined;
    return toConversation(hash, members);
  }

  /**
   * The user's side of joining: the index entry and the notice on their channel (a gateway holding
   * their sockets follows the conversation), in one MULTI in the user's slot. Written BEFORE the
   * conversation's side, so a crash in between leaves only an index entry without membership,
   * which readers filter out (listFor, and the gateway's reads check membership).
   */
  async function joinUserSide(username: string, id: string, indexScore: number | string): Promise<void> {
    pipelineValues(
      await guardRedis(
        redis
          .multi()
          .zadd(keys.userConversations(username), indexScore, id)
          .call(keys.publishCommand, keys.userChannel(username), `${MEMBERSHIP_MARKS.joined}${id}`)
          .exec(),
      ),
    );
  }

  /** The user's side of leaving, AFTER the conversation's side: a crash in between leaves what joinUserSide's does. */
  async function leaveUserSide(username: string, id: string): Promise<void> {
    pipelineValues(
      await guardRedis(
        redis
          .multi()
          .zrem(keys.userConversations(username), id)
          .call(keys.publishCommand, keys.userChannel(username), `${MEMBERSHIP_MARKS.left}${id}`)
          .exec(),
      ),
    );
  }

  return {
    /**
     * Writes every member's side (index entry, notice), then the conversation and its members
     * atomically (MULTI in the conversation's slot): see joinUserSide for why in that order.
     */
    async create(input: { title: string; createdBy: string; users: readonly string[] }): Promise<Conversation> {
      const id = newConversationId();
      const now = new Date();
      const createdAt = now.toISOString();
      const members = [...new Set([input.createdBy, ...input.users])];
      await Promise.all(members.map((user) => joinUserSide(user, id, now.getTime())));
      pipelineValues(
        await guardRedis(
          redis
            .multi()
            .hset(keys.conversation(id), { id, title: input.title, createdAt, createdAtMs: now.getTime(), createdBy: input.createdBy, seq: 0 })
            .zadd(keys.members(id), ...members.flatMap((user) => [0, user]))
            .exec(),
        ),
      );
      return { id, title: input.title, users: members.sort(), createdAt, createdBy: input.createdBy };
    },

    /** The conversation, or undefined when it does not exist or `asUser` is not a member. */
    read,

    async require(id: string, asUser: string): Promise<Conversation> {
      const conversation = await read(id, asUser);
      if (!conversation) throw new NotFoundError('no such conversation');
      return conversation;
    },

    /**
     * The user's conversations, oldest first: those of their index they really are a member of (an
     * entry whose conversation side was never written, or already undone, is skipped). One round
     * trip for the index, one (auto-pipelined, across slots) for the conversations.
     */
    async listFor(username: string): Promise<Conversation[]> {
      const ids = await guardRedis(redis.zrange(keys.userConversations(username), 0, -1));
      const found = await Promise.all(
        ids.map(async (id) => {
          const [hash, members] = pipelineValues(
            await guardRedis(redis.pipeline().hgetall(keys.conversation(id)).zrange(keys.members(id), 0, -1).exec()),
          ) as [Record<string, string>, string[]];
          return hash.id && members.includes(username) ? toConversation(hash, members) : undefined;
        }),
      );
      return found.filter((conversation) => conversation !== undefined);
    },

    /**
     * Applies a title and/or a new member list; the caller always stays a member
     * (lua/update-conversation-2.lua). The users it adds get their side first, those it removes
     * after (see joinUserSide).
     */
    async update(id: string, caller: string, change: { title?: string; users?: readonly string[] }): Promise<Conversation> {
      const expected = new Set<string>();
      if (change.users) {
        const [joinedAt, createdAtMs, current] = pipelineValues(
          await guardRedis(
            redis.pipeline().zscore(keys.members(id), caller).hget(keys.conversation(id), 'createdAtMs').zrange(keys.members(id), 0, -1).exec(),
          ),
        ) as [string | null, string | null, string[]];
        if (joinedAt === null || createdAtMs === null) throw new NotFoundError('no such conversation');
        for (const user of new Set([caller, ...change.users])) if (!current.includes(user)) expected.add(user);
        await Promise.all([...expected].map((user) => joinUserSide(user, id, createdAtMs)));
      }
      const reply = await guardRedis(
        STORE_SCRIPTS.updateConversation.run(
          redis,
          [keys.conversation(id), keys.members(id)],
          [caller, change.title ?? '', change.users ? '1' : '0', ...(change.users ?? [])],
        ),
      );
      if (reply[0] !== 1) throw new NotFoundError('no such conversation');
      const [, joinedCount, ...users] = reply;
      const joined = users.slice(0, joinedCount);
      const left = users.slice(joinedCount);
      const unexpected = joined.filter((user) => !expected.has(user));
      if (unexpected.length > 0) {
        // Removed by someone else since we looked: joined again here, their side comes late.
        const createdAtMs = await guardRedis(redis.hget(keys.conversation(id), 'createdAtMs'));
        await Promise.all(unexpected.map((user) => joinUserSide(user, id, createdAtMs ?? 0)));
      }
      await Promise.all(left.map((user) => leaveUserSide(user, id)));
      const conversation = await read(id, caller);
      if (!conversation) throw new NotFoundError('no such conversation');
      return conversation;
    },

    /**
     * `username` leaves; the last member to leave deletes the conversation and its history
     * (lua/leave-conversation-4.lua), then their side goes. NotFoundError when they are not a member.
     */
    async leave(id: string, username: string): Promise<'left' | 'deleted'> {
      const outcome = await guardRedis(
        STORE_SCRIPTS.leaveConversation.run(
          redis,
          [keys.conversation(id), keys.members(id), keys.messages(id), keys.conversationTombstone(id)],
          [username, CONVERSATION_TOMBSTONE_MS],
        ),
      );
      if (outcome === 0) throw new NotFoundError('no such conversation');
      await leaveUserSide(username, id);
      return outcome === 2 ? 'deleted' : 'left';
    },

    /** The ids of the user's conversation index, oldest first (membership not checked: see listFor). */
    async idsOf(username: string): Promise<string[]> {
      return guardRedis(redis.zrange(keys.userConversations(username), 0, -1));
    },

    /** Whether `username` is a member of each conversation: one command each, auto-pipelined (each in its own slot). */
    async memberships(username: string, ids: readonly string[]): Promise<boolean[]> {
      return Promise.all(ids.map(async (id) => (await guardRedis(redis.zscore(keys.members(id), username))) !== null));
    },
  };
}

export type ConversationStore = ReturnType<typeof createConversationStore>;
