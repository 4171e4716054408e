import type { Redis } from './connect-redis.js';
import { luaCommand } from './lua-command.js';

/**
 * Every Lua script of the store (packages/store/lua), typed as its header states it: KEYS, ARGV,
 * reply. The stores run them; connectRedis defines them all on each command connection.
 */

export type AppendKeys = [conversation: string, members: string, messages: string, outbox: string, wake: string];
export type AppendArgs = [
  author: string,
  messageHead: string,
  messageTail: string,
  entryHead: string,
  entryTail: string,
  acceptedAtMs: number,
  keep: number,
  wakeTtlMs: number,
];
/**
 * {1, seq, woke (1: enqueue a drain)}; {0, 0, 0} when the author is not a member (or no such
 * conversation); {-1, ms left in the window, 0} when rate-limited.
 */
type AppendReply = [outcome: 1 | 0 | -1, value: number, woke: 0 | 1];

export const STORE_SCRIPTS = {
  appendMessage: luaCommand<AppendKeys, AppendArgs, AppendReply>('append-message-5'),
  appendChargedMessage: luaCommand<[...AppendKeys, counter: string], [...AppendArgs, limit: number, windowMs: number], AppendReply>(
    'append-charged-message-6',
  ),
  drainOutbox: luaCommand<
    [outbox: string, wake: string],
    [
      limit: number,
      conversationPrefix: string,
      membersSuffix: string,
      messagesSuffix: string,
      channelPrefix: string,
      separator: string,
      beforeMessage: string,
      beforeTitle: string,
      after: string,
      awakeTtlMs: number,
      memberSeparator: string,
      publishCommand: 'PUBLISH' | 'SPUBLISH',
      goneSuffix: string,
      nowMs: number,
      goneAfterMs: number,
    ],
    [delivered: number, recipients: number, gone: number, malformed: number, more: 0 | 1, awake: 0 | 1, waiting: number]
  >('drain-outbox-2'),
  /** Legacy per-message jobs: members the event named, -1 when already delivered, -2 when the message or conversation is gone. */
  deliverMessage: luaCommand<
    [messages: string, conversation: string, members: string, outbox: string],
    [
      seq: number,
      entry: string,
      channel: string,
      head: string,
      beforeMessage: string,
      beforeTitle: string,
      after: string,
      separator: string,
      memberSeparator: string,
    ],
    number
  >('deliver-message-4'),
  countRateHit: luaCommand<[counter: string], [windowMs: number, limit: number], [count: number, ttlMs: number]>('count-rate-hit-1'),
  /** {1, 0} when counted on both; {0, ms until the full counter resets} when counted on neither. */
  countRateHitsIfRoom: luaCommand<
    [first: string, second: string],
    [firstLimit: number, firstWindowMs: number, secondLimit: number, secondWindowMs: number],
    [counted: 1 | 0, waitMs: number]
  >('count-rate-hits-if-room-2'),
  /** The hits taken back from the total. */
  forgetRateHits: luaCommand<[counter: string, total: string], [], number>('forget-rate-hits-2'),
  observeEpoch: luaCommand<[epoch: string], [runId: string, durable: '1' | '0', fresh: string, ...alive: string[]], string>('observe-epoch-1'),
  claimSocketSlot: luaCommand<[sockets: string], [socketId: string, limit: number, nowMs: number, ttlMs: number], 0 | 1>(
    'claim-socket-slot-1',
  ),
  /** {1, joinedCount, ...joined, ...left} when applied; {0} when the caller is not a member (or no such conversation). */
  updateConversation: luaCommand<
    [conversation: string, members: string],
    [caller: string, title: string, replaceMembers: '1' | '0', ...users: string[]],
    [1, number, ...string[]] | [0]
  >('update-conversation-2'),
  /** 1 left, 2 left as the last member (the conversation is deleted), 0 not a member. */
  leaveConversation: luaCommand<
    [conversation: string, members: string, messages: string, tombstone: string],
    [user: string, tombstoneTtlMs: number],
    0 | 1 | 2
  >('leave-conversation-4'),
};

/**
 * Defines every store script on `redis`. Call it before the connection sends anything when it
 * auto-pipelines (connectRedis does): an auto-pipeline only has the scripts defined when it was
 * created, and a script called into one created earlier fails inside ioredis.
 */
export function defineStoreScripts(redis: Redis): void {
  for (const script of Object.values(STORE_SCRIPTS)) script.define(redis);
}
