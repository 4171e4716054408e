import { randomBytes } from 'node:crypto';
import { NotFoundError, type Conversation } from '@chat/contracts';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { pipelineValues } from './pipeline-results.js';
import { luaScript, runScript } from './run-script.js';

/**
 * Changes membership and title in one step, only if the caller is a member. Keeps every member's
 * conversation index in step with the member set. The index keys are derived in the script from
 * ARGV[4] because the member list is only known inside it (single-instance Redis, not Cluster).
 * Returns 0 when the caller is not a member (or the conversation does not exist), else 1.
 */
const UPDATE_CONVERSATION = luaScript(`
local conv, members = KEYS[1], KEYS[2]
local caller, title, replaceMembers, indexPrefix, indexSuffix, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if not redis.call('ZSCORE', members, caller) then return 0 end
if title ~= '' then redis.call('HSET', conv, 'title', title) end
if replaceMembers == '1' then
  local score = redis.call('HGET', conv, 'createdAtMs')
  local joinedAtSeq = redis.call('HGET', conv, 'seq')
  local wanted = { [caller] = true }
  for i = 7, #ARGV do wanted[ARGV[i]] = true end
  local current = {}
  for _, user in ipairs(redis.call('ZRANGE', members, 0, -1)) do
    current[user] = true
    if not wanted[user] then
      redis.call('ZREM', members, user)
      redis.call('ZREM', indexPrefix .. user .. indexSuffix, id)
    end
  end
  for user in pairs(wanted) do
    if not current[user] then
      redis.call('ZADD', members, joinedAtSeq, user)
      redis.call('ZADD', indexPrefix .. user .. indexSuffix, score, id)
    end
  end
end
return 1
`);

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
    /** Writes the conversation, its members and every member's index atomically (MULTI). */
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

    /** Applies a title and/or a new member list; the caller always stays a member. */
    async update(id: string, caller: string, change: { title?: string; users?: readonly string[] }): Promise<Conversation> {
      const applied = await guardRedis(
        runScript(
          redis,
          UPDATE_CONVERSATION,
          [keys.conversation(id), keys.members(id)],
          [caller, change.title ?? '', change.users ? '1' : '0', indexPrefix, indexSuffix, id, ...(change.users ?? [])],
        ),
      );
      if (applied !== 1) throw new NotFoundError('no such conversation');
      const conversation = await read(id, caller);
      if (!conversation) throw new NotFoundError('no such conversation');
      return conversation;
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
