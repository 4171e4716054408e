import { InvalidRequestError, MEMBERSHIP_MARKS, NotFoundError, readNotice, type Conversation, type ReadState } from '@chat/contracts';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { pipelineValues } from './pipeline-results.js';
import { randomId } from './random-ids.js';
import { authoredSeqField, readCursorOf } from './read-cursor.js';
import { STORE_SCRIPTS } from './store-scripts.js';
import { CONVERSATION_TOMBSTONE_MS } from './outbox.js';

export interface ConversationRecord {
  conversation: Conversation;
  /** Last seq handed out; 0 before the first message. */
  lastSeq: number;
}

/** The conversation hash, its members and a user's read cursor (null: none yet) as that user sees them. */
/**
 * The fields of a conversation's hash that make a Conversation, read by name: the hash also holds
 * a field per member who wrote there (read-cursor.ts), so HGETALL would grow with a big room.
 */
const CONVERSATION_FIELDS = ['id', 'title', 'createdAt', 'createdBy', 'seq', 'lastMessageAt'] as const;
type ConversationFields = Partial<Record<(typeof CONVERSATION_FIELDS)[number], string>>;

/** HMGET of CONVERSATION_FIELDS then the user's authored-seq field, as fields and that seq. */
function conversationFieldsOf(values: (string | null)[]): { hash: ConversationFields; authored: string | null } {
  const hash: ConversationFields = {};
  CONVERSATION_FIELDS.forEach((field, i) => {
    const value = values[i];
    if (value !== null && value !== undefined) hash[field] = value;
  });
  return { hash, authored: values[CONVERSATION_FIELDS.length] ?? null };
}

function toConversation(hash: ConversationFields, members: string[], readCursor: number): Conversation {
  const lastSeq = Number(hash.seq ?? 0);
  // A cursor is never above lastSeq unless history went backwards (a restore): unread stays ≥ 0.
  const readSeq = Math.min(readCursor, lastSeq);
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
  return randomId();
}

export function createConversationStore(redis: Redis, keys: Keys) {

  async function read(id: string, asUser: string): Promise<Conversation | undefined> {
    const [joinedAt, values, members, marked] = pipelineValues(
      await guardRedis(
        redis
          .pipeline()
          .zscore(keys.members(id), asUser)
          .hmget(keys.conversation(id), ...CONVERSATION_FIELDS, authoredSeqField(asUser))
          .zrange(keys.members(id), 0, -1)
          .hget(keys.reads(id), asUser)
          .exec(),
      ),
    ) as [string | null, (string | null)[], string[], string | null];
    const { hash, authored } = conversationFieldsOf(values);
    if (joinedAt === null || !hash.id) return undefined;
    return toConversation(hash, members, readCursorOf(marked, authored));
  }

  /**
   * One conversation of the user's list, or undefined when it is gone or they are no longer a
   * member (an index entry may outlive the membership). Three commands, no pipeline: the command
   * connection auto-pipelines those of every conversation of a list into one round trip, and each
   * conversation's commands go to its own node on a cluster.
   */
  async function listEntry(id: string, username: string): Promise<Conversation | undefined> {
    const [values, members, marked] = await Promise.all([
      redis.hmget(keys.conversation(id), ...CONVERSATION_FIELDS, authoredSeqField(username)),
      redis.zrange(keys.members(id), 0, -1),
      redis.hget(keys.reads(id), username),
    ]);
    const { hash, authored } = conversationFieldsOf(values);
    if (!hash.id || !members.includes(username)) return undefined;
    return toConversation(hash, members, readCursorOf(marked, authored));
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

  /**
   * Tells each member who stays that the conversation changed (a `conversation` `updated` frame),
   * AFTER the change, on their own channels (one slot each on Redis Cluster). A crash before it
   * costs those sockets this frame, not the change; a REST read shows it.
   */
  async function tellUpdated(users: readonly string[], id: string): Promise<void> {
    await guardRedis(Promise.all(users.map((user) => redis.call(keys.publishCommand, keys.userChannel(user), `${MEMBERSHIP_MARKS.updated}${id}`))));
  }

  return {
    /**
     * Writes every member's side (index entry, notice), then the conversation and its members
     * atomically (MULTI in the conversation's slot, deleting any delivery header with them, as
     * every change of the title or members does): see joinUserSide for why in that order.
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
            // No delivery header for a new id, unless one is reused (tests): one never outlives the change.
            .del(keys.deliveryHeader(id))
            .hset(keys.conversation(id), { id, title: input.title, createdAt, createdAtMs: now.getTime(), createdBy: input.createdBy, seq: 0 })
            .zadd(keys.members(id), ...members.flatMap((user) => [0, user]))
            .exec(),
        ),
      );
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
        STORE_SCRIPTS.markRead.run(redis, [keys.conversation(id), keys.members(id), keys.reads(id)], [username, seq, authoredSeqField(username)]),
      );
      if (outcome === -1) throw new NotFoundError('no such conversation');
      if (outcome === -2) throw new InvalidRequestError(`seq ${seq} is above the conversation's last seq (${lastSeq})`);
      // After the cursor moved, not with it (a user's channel and a conversation's keys never go in
      // one script): a crash between costs the other devices this frame, not the cursor.
      if (outcome === 1) await guardRedis(redis.call(keys.publishCommand, keys.userChannel(username), readNotice(id, readSeq)));
      return { conversationId: id, readSeq, unread: Math.max(0, lastSeq - readSeq) };
    },

    /**
     * Applies a title and/or a new member list; the caller always stays a member
     * (lua/update-conversation-3.lua, which deletes the delivery header with the change). The
     * users it adds get their side first, those it removes after (see joinUserSide); the members
     * who stay are told after (tellUpdated).
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
          [keys.conversation(id), keys.members(id), keys.deliveryHeader(id)],
          [caller, change.title ?? '', change.users ? '1' : '0', ...(change.users ?? [])],
        ),
      );
      if (reply[0] !== 1) throw new NotFoundError('no such conversation');
      const [, joinedCount, leftCount, ...users] = reply;
      const joined = users.slice(0, joinedCount);
      const left = users.slice(joinedCount, joinedCount + leftCount);
      const stayed = users.slice(joinedCount + leftCount).filter((user) => !joined.includes(user));
      const unexpected = joined.filter((user) => !expected.has(user));
      if (unexpected.length > 0) {
        // Removed by someone else since we looked: joined again here, their side comes late.
        const createdAtMs = await guardRedis(redis.hget(keys.conversation(id), 'createdAtMs'));
        await Promise.all(unexpected.map((user) => joinUserSide(user, id, createdAtMs ?? 0)));
      }
      await Promise.all([...left.map((user) => leaveUserSide(user, id)), tellUpdated(stayed, id)]);
      const conversation = await read(id, caller);
      if (!conversation) throw new NotFoundError('no such conversation');
      return conversation;
    },

    /**
     * `username` leaves; the last member to leave deletes the conversation, its history, read
     * cursors and rev index (lua/leave-conversation-7.lua, which deletes the delivery header with
     * the change), then their side goes and the members who stay are told. NotFoundError when
     * they are not a member.
     */
    async leave(id: string, username: string): Promise<'left' | 'deleted'> {
      const [outcome, ...stayed] = await guardRedis(
        STORE_SCRIPTS.leaveConversation.run(
          redis,
          [
            keys.conversation(id),
            keys.members(id),
            keys.messages(id),
            keys.reads(id),
            keys.revs(id),
            keys.conversationTombstone(id),
            keys.deliveryHeader(id),
          ],
          [username, CONVERSATION_TOMBSTONE_MS],
        ),
      );
      if (outcome === 0) throw new NotFoundError('no such conversation');
      await Promise.all([leaveUserSide(username, id), tellUpdated(stayed, id)]);
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
