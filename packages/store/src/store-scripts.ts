import type { Redis } from './connect-redis.js';
import { luaCommand } from './lua-command.js';

/**
 * Every Lua script of the store (packages/store/lua), typed as its header states it: KEYS, ARGV,
 * reply. The stores run them; connectRedis defines them all on each command connection.
 */

export type AppendKeys = [
  conversation: string,
  members: string,
  messages: string,
  outbox: string,
  wake: string,
  clientId: string,
  revs: string,
];
export type AppendArgs = [
  author: string,
  messageHead: string,
  messageTail: string,
  entryHead: string,
  entryTail: string,
  acceptedAtMs: number,
  keep: number,
  wakeTtlMs: number,
  createdAt: string,
  clientId: string,
  fingerprint: string,
  clientIdTtlMs: number,
  authoredField: string,
];
/**
/**
 * {1, seq, woke (1: enqueue a drain), rev}; {0, 0, 0} when the author is not a member (or no such
 * conversation); {-1, ms left in the window, 0} when rate-limited; {2, seq, 0, stored message}
 * for a repeated clientId; {3, 0, 0} for one repeated with another text or of a deleted message;
 * {4, seq, 0} for one whose message is no longer stored.
 */
type AppendReply = [outcome: 1 | 0 | -1 | 2 | 3 | 4, value: number, woke: 0 | 1, extra?: number | string];

export const STORE_SCRIPTS = {
  appendMessage: luaCommand<AppendKeys, AppendArgs, AppendReply>('append-message-7'),
  appendChargedMessage: luaCommand<[...AppendKeys, counter: string], [...AppendArgs, limit: number, windowMs: number], AppendReply>(
    'append-charged-message-8',
  ),
  /** {1, rev, woke}; {0, 0, 0} not a member (or no conversation); {-1, 0, 0} the message changed since it was read. */
  editMessage: luaCommand<
    [conversation: string, members: string, messages: string, revs: string, outbox: string, wake: string],
    [
      author: string,
      seq: number,
      expected: string,
      messageHead: string,
      messageTail: string,
      entryHead: string,
      acceptedAtMs: number,
      wakeTtlMs: number,
    ],
    [outcome: 1 | 0 | -1, rev: number, woke: 0 | 1]
  >('edit-message-6'),
  /** [title or null, rev, lastSeq, scanned, lastScannedRev, rev1, message1, …] as strings. */
  readChanges: luaCommand<
    [conversation: string, messages: string, revs: string],
    [after: number, until: number | '+inf', maxSeq: number | '+inf', limit: number],
    (string | null | number)[]
  >('read-changes-3'),
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
      beforeUpdated: string,
      report: '1' | '0',
      deliveryHeaderSuffix: string,
      idleAwake: '1' | '0',
    ],
    [delivered: number, recipients: number, gone: number, malformed: number, more: 0 | 1, awake: 0 | 1, waiting: number, events?: string[]]
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
  /** 2 claimed and the user came online, 1 claimed, 0 the user holds `limit` sockets. */
  claimSocketSlot: luaCommand<[sockets: string, presence: string], [socketId: string, limit: number, nowMs: number, ttlMs: number], 0 | 1 | 2>(
    'claim-socket-slot-2',
  ),
  /** The user's live sockets left. */
  releaseSocketSlot: luaCommand<[sockets: string, presence: string], [socketId: string, nowMs: number], number>('release-socket-slot-2'),
  /** {1, lastSeen ms} when the user went offline, {0, 0} otherwise. */
  settlePresence: luaCommand<[sockets: string, presence: string], [nowMs: number], [offline: 0 | 1, lastSeenMs: number]>(
    'settle-presence-2',
  ),
  /** Users dropped from the sweep's index. */
  forgetLapsedPresence: luaCommand<[expiries: string], [nowMs: number, ...users: string[]], number>('forget-lapsed-presence-1'),
  /** 1 relayed, 0 throttled, -1 not a member. */
  relayTyping: luaCommand<
    [members: string, throttle: string],
    [
      user: string,
      throttleMs: number,
      channel: string,
      mark: string,
      memberSeparator: string,
      separator: string,
      frame: string,
      publishCommand: 'PUBLISH' | 'SPUBLISH',
    ],
    1 | 0 | -1
  >('relay-typing-2'),
  /** {1, joinedCount, leftCount, ...joined, ...left, ...members now} when applied; {0} when the caller is not a member (or no such conversation). */
  updateConversation: luaCommand<
    [conversation: string, members: string, deliveryHeader: string],
    [caller: string, title: string, replaceMembers: '1' | '0', ...users: string[]],
    [1, number, number, ...string[]] | [0]
  >('update-conversation-3'),
  /** {1, ...members who stay} left, {2} left as the last member (the conversation is deleted), {0} not a member. */
  leaveConversation: luaCommand<
    [conversation: string, members: string, messages: string, reads: string, revs: string, tombstone: string, deliveryHeader: string],
    [user: string, tombstoneTtlMs: number],
    [1, ...string[]] | [2] | [0]
  >('leave-conversation-7'),
  /** {1 moved | 0 stays, readSeq, lastSeq}; {-1, 0, 0} not a member; {-2, 0, lastSeq} seq above lastSeq. */
  markRead: luaCommand<[conversation: string, members: string, reads: string], [user: string, seq: number, authoredField: string], [outcome: 1 | 0 | -1 | -2, readSeq: number, lastSeq: number]>(
    'mark-read-3',
  ),
};

/**
 * Defines every store script on `redis`. Call it before the connection sends anything when it
 * auto-pipelines (connectRedis does): an auto-pipeline only has the scripts defined when it was
 * created, and a script called into one created earlier fails inside ioredis.
 */
export function defineStoreScripts(redis: Redis): void {
  for (const script of Object.values(STORE_SCRIPTS)) script.define(redis);
}
