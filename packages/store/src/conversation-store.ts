import { randomBytes } from 'node:crypto';
import { MEMBERSHIP_MARKS, NotFoundError, type Conversation } from '@chat/contracts';
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
  // Index keys are `${prefix}:user:${username}:conversations`; the script needs both halves.
  const probe = keys.userConversations('\u0000');
  const [indexPrefix, indexSuffix] = probe.split('\u0000') as [string, string];

  async function read(id: string, asUser: string): Promise<Conversation | undefined> {
    const [joinedAt, hash, members] = pipelineValues(
      await guardRedis(
        redis.pipeline().zscore(keys.members(id), asUser).hgetall(keys.conversation(id)).zrange(keys.members(id), 0, -1).exec(),
      ),
    ) as [string | null, Record<string, string>, string[]];
    if (joinedAt === null || !hash.id) return undefined;
    return toConversation(hash, members);
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
      return { id, title: input.title, users: members.sort(), createdAt, createdBy: input.createdBy };
    },

    /** The conversation, or undefined when it does not exist or `asUser` is not a member. */
    read,

    async require(id: string, asUser: string): Promise<Conversation> {
      const conversation = await read(id, asUser);
      if (!conversation) throw new NotFoundError('no such conversation');
      return conversation;
    },

    /** The user's conversations, oldest first. Two round trips whatever their number. */
    async listFor(username: string): Promise<Conversation[]> {
      const ids = await guardRedis(redis.zrange(keys.userConversations(username), 0, -1));
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(keys.conversation(id)).zrange(keys.members(id), 0, -1);
      const values = pipelineValues(await guardRedis(pipeline.exec()));
      const conversations: Conversation[] = [];
      for (let i = 0; i < ids.length; i += 1) {
        const hash = values[2 * i] as Record<string, string>;
        if (hash.id) conversations.push(toConversation(hash, values[2 * i + 1] as string[]));
      }
      return conversations;
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
     * (lua/leave-conversation-4.lua). NotFoundError when they are not a member.
     */
    async leave(id: string, username: string): Promise<'left' | 'deleted'> {
      const outcome = await guardRedis(
        STORE_SCRIPTS.leaveConversation.run(
          redis,
          [keys.conversation(id), keys.members(id), keys.messages(id), keys.userConversations(username), keys.revs(id)],
          [username, id, keys.userChannel(username), MEMBERSHIP_MARKS.left],
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
