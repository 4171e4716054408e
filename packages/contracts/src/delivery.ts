import { z } from 'zod';
import { ID_PATTERN, idSchema, isUsername } from './identifiers.js';

/**
 * The api → worker → gateway link. Neither service imports the other; both import this.
 */

export const DELIVERY_QUEUE = 'deliveries';

/**
 * Conversations are spread over delivery partitions, each with its own outbox and wake flag,
 * drained by one job at a time: the api's DELIVERY_PARTITIONS (at most MAX_DELIVERY_PARTITIONS).
 * One partition carries the most messages per drain (fewest Redis commands per message) and suits
 * one Redis; more spread the draining over worker jobs and, on Redis Cluster, over shards. Only
 * the api needs the count: a drain job names its partition, and the worker's outbox sweeper looks
 * at every possible partition, so apis and workers configured differently (or a count changed
 * while messages wait) never strand a message.
 */
export const MAX_DELIVERY_PARTITIONS = 64;
export const DEFAULT_DELIVERY_PARTITIONS = 1;

/** The partition of a conversation: FNV-1a (32-bit) of its id, mod `partitions`. Stable across releases. */
export function deliveryPartition(conversationId: string, partitions: number = DEFAULT_DELIVERY_PARTITIONS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < conversationId.length; i += 1) {
    hash ^= conversationId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/** Options of every delivery job, whoever enqueues it (the api, the worker, or the outbox sweeper). */
export const DELIVERY_JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: 1000,
  attempts: 10,
  backoff: { type: 'exponential', delay: 100 },
} as const;

/**
 * The job that delivers what one partition's outbox owes, oldest first. The api enqueues one only
 * when its message woke the partition (no drain pending); one drain carries every message accepted
 * until it runs, so the job's cost is paid per batch under load and per message when idle.
 */
export const DRAIN_JOB = 'drain';
export const drainJobSchema = z.strictObject({
  partition: z.number().int().min(0).max(MAX_DELIVERY_PARTITIONS - 1),
});
export type DrainJob = z.infer<typeof drainJobSchema>;

/**
 * The per-message job of releases before partitioned drains (job id = message id). The worker
 * still delivers those left in a queue after an upgrade, from the old outbox; nothing enqueues new ones.
 */
export const DELIVERY_JOB = 'deliver';
export const deliveryJobSchema = z.strictObject({
  conversationId: idSchema,
  seq: z.number().int().positive(),
  messageId: idSchema,
});
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/**
 * A pub/sub event on a conversation's channel, published once per change whatever the number of
 * members: `<conversationId> <seq> <acceptedAtMs> <member,member,…> <rev> <frame>`, where frame is
 * the exact WebSocket text `{"type":"message","data":Summary}` (a new message) or
 * `{"type":"message_updated","data":Summary}` (an edit or deletion of message `seq`), `rev` is the
 * conversation's rev at that change (events of earlier releases have no rev field: then the frame
 * follows the members), and the members are those of the conversation when the delivery script
 * published it (read in the same atomic step, so a member removed before it is not named, one added
 * before it is). A gateway subscribes to the channels of its users' conversations and hands the
 * frame to the local sockets of the members named, and to nobody else. The header lets it order,
 * de-duplicate and time deliveries without parsing the frame, whose bytes go to every socket
 * unchanged. Encoded by the worker's delivery script from batchDeliveryEventParts, decoded by
 * decodeDeliveryEvent: the event's bytes are described here only.
 */
export interface DeliveryEvent {
  conversationId: string;
  seq: number;
  /** The conversation's rev at this change; undefined for an event of an earlier release (a message). */
  rev: number | undefined;
  /** The frame is a `message_updated` (an edit or deletion), not a new `message`. */
  updated: boolean;
  /** When the api accepted the message or the change (epoch ms): the start of the delivery latency. */
  acceptedAtMs: number;
  /** The usernames owed this frame. */
  members: string[];
  frame: Buffer;
}

const SEPARATOR = ' '; // never part of an id, a username or a decimal number.
const MEMBER_SEPARATOR = ','; // never part of a username.
const SEPARATOR_BYTE = SEPARATOR.charCodeAt(0);
const DECIMAL = /^[1-9]\d{0,15}$/;

/**
 * The pieces of a message frame (`{"type":"message","data":Summary}`) around a stored message's
 * JSON text and its title's JSON encoding: `before + stored-without-its-closing-brace +
 * beforeTitle + title + after`, the summary being the stored message plus `conversationTitle`.
 * Built without parsing or re-encoding the message.
 */
const MESSAGE_FRAME_PARTS = {
  before: '{"type":"message","data":',
  beforeTitle: ',"conversationTitle":',
  after: '}}',
} as const;
/** What an edit's or deletion's frame (`message_updated`) has instead of MESSAGE_FRAME_PARTS.before. */
const UPDATED_FRAME_BEFORE = '{"type":"message_updated","data":';

export type FrameKind = 'message' | 'updated';

/** A frame from a stored message's JSON text, by concatenation (see MESSAGE_FRAME_PARTS): the gateway's replay. */
export function frameOfStored(storedMessage: string, conversationTitle: string, kind: FrameKind = 'message'): string {
  const { before, beforeTitle, after } = MESSAGE_FRAME_PARTS;
  const opening = kind === 'message' ? before : UPDATED_FRAME_BEFORE;
  return `${opening}${storedMessage.slice(0, -1)}${beforeTitle}${JSON.stringify(conversationTitle)}${after}`;
}

const UPDATED_OPENING = Buffer.from(UPDATED_FRAME_BEFORE);
const MESSAGE_OPENING = Buffer.from(MESSAGE_FRAME_PARTS.before);

function isUpdatedFrame(frame: Buffer | string): boolean {
  return typeof frame === 'string' ? frame.startsWith(UPDATED_FRAME_BEFORE) : frame.subarray(0, UPDATED_OPENING.length).equals(UPDATED_OPENING);
}

/**
 * The same summary as a frame of `kind`: a socket that never had a message gets its first copy as
 * a `message` even when what reaches it is the frame of a later edit (its creation was superseded
 * before it could be sent). Only the opening bytes change.
 */
export function frameAs(frame: Buffer | string, kind: FrameKind): Buffer | string {
  const updated = isUpdatedFrame(frame);
  if (updated === (kind === 'updated')) return frame;
  const [from, to] = updated ? [UPDATED_OPENING, MESSAGE_OPENING] : [MESSAGE_OPENING, UPDATED_OPENING];
  if (typeof frame === 'string') return `${to.toString()}${frame.slice(from.length)}`;
  return Buffer.concat([to, frame.subarray(from.length)]);
}

/**
 * A delivery event's bytes around what only the delivery script reads in Redis, in the atomic
 * step that publishes it (the acceptance time, the members, the stored message, the title):
 * `head + acceptedAtMs + separator + members joined by memberSeparator + beforeMessage +
 * stored-without-its-closing-brace + beforeTitle + JSON(title) + after`. The frame is frameOfStored's, except that the script encodes the title
 * with Redis's cjson, which also escapes `/` and DEL: the same JSON value, other bytes.
 */
export interface DeliveryEventParts {
  head: string;
  separator: string;
  memberSeparator: string;
  beforeMessage: string;
  /** beforeMessage of an edit's or deletion's event (a `message_updated` frame). */
  beforeUpdated: string;
  beforeTitle: string;
  after: string;
}

export function deliveryEventParts(conversationId: string, seq: number): DeliveryEventParts {
  const parts = batchDeliveryEventParts();
  return { head: `${conversationId}${parts.separator}${seq}${parts.separator}`, ...parts };
}

/**
 * deliveryEventParts for a script that delivers many changes: it writes the head itself as
 * `conversationId + separator + seq + separator`, and the rev as `separator + rev` before
 * beforeMessage (or beforeUpdated).
 */
export function batchDeliveryEventParts(): Omit<DeliveryEventParts, 'head'> {
  const { before, beforeTitle, after } = MESSAGE_FRAME_PARTS;
  return {
    separator: SEPARATOR,
    memberSeparator: MEMBER_SEPARATOR,
    beforeMessage: `${SEPARATOR}${before}`,
    beforeUpdated: `${SEPARATOR}${UPDATED_FRAME_BEFORE}`,
    beforeTitle,
    after,
  };
}

/**
 * A notice on a user's own channel: they joined or left a conversation (created with them, members
 * changed), a conversation of theirs changed (title, members), or their read cursor in one moved.
 * Membership notices are published in the same atomic step as the change, so a gateway holding the
 * user's sockets subscribes to (or leaves) the conversation's channel and reads from the store what
 * was published before its subscription took effect; each becomes a `conversation` frame (added,
 * removed, updated) and a read notice a `read` frame. Bytes: the mark, then the conversation id,
 * and for a read notice a space and the cursor's seq.
 */
export const MEMBERSHIP_MARKS = { joined: '+', left: '-', updated: '~' } as const;
export const READ_MARK = '=';
export type UserNotice =
  | { change: keyof typeof MEMBERSHIP_MARKS; conversationId: string }
  | { change: 'read'; conversationId: string; seq: number };

const NOTICE_CHANGES: Record<string, UserNotice['change']> = {
  [MEMBERSHIP_MARKS.joined]: 'joined',
  [MEMBERSHIP_MARKS.left]: 'left',
  [MEMBERSHIP_MARKS.updated]: 'updated',
  [READ_MARK]: 'read',
};

/** A read notice's bytes: the user's cursor in a conversation is now `seq`. */
export function readNotice(conversationId: string, seq: number): string {
  return `${READ_MARK}${conversationId}${SEPARATOR}${seq}`;
}

export function decodeUserNotice(payload: Buffer): UserNotice | undefined {
  const change = NOTICE_CHANGES[payload.toString('latin1', 0, 1)];
  if (!change) return undefined;
  const rest = payload.toString('latin1', 1);
  if (change !== 'read') return ID_PATTERN.test(rest) ? { change, conversationId: rest } : undefined;
  const at = rest.indexOf(SEPARATOR);
  const conversationId = rest.slice(0, at);
  const seqText = rest.slice(at + 1);
  if (at <= 0 || !ID_PATTERN.test(conversationId) || !(seqText === '0' || DECIMAL.test(seqText))) return undefined;
  return { change, conversationId, seq: Number(seqText) };
}

/** Returns undefined for anything malformed; the caller logs and skips it. */
export function decodeDeliveryEvent(payload: Buffer): DeliveryEvent | undefined {
  const first = payload.indexOf(SEPARATOR_BYTE);
  if (first <= 0 || first > 64) return undefined;
  const second = payload.indexOf(SEPARATOR_BYTE, first + 1);
  if (second < 0 || second - first > 17) return undefined;
  const third = payload.indexOf(SEPARATOR_BYTE, second + 1);
  if (third < 0 || third - second > 17) return undefined;
  const fourth = payload.indexOf(SEPARATOR_BYTE, third + 1);
  if (fourth < 0) return undefined;
  const conversationId = payload.toString('latin1', 0, first);
  const seqText = payload.toString('latin1', first + 1, second);
  const acceptedText = payload.toString('latin1', second + 1, third);
  if (!ID_PATTERN.test(conversationId) || !DECIMAL.test(seqText) || !DECIMAL.test(acceptedText)) return undefined;
  const members = payload.toString('latin1', third + 1, fourth).split(MEMBER_SEPARATOR);
  if (!members.every(isUsername)) return undefined;
  let frameAt = fourth + 1;
  let rev: number | undefined;
  if (payload[frameAt] !== 0x7b /* { */) {
    // A rev field (events of earlier releases have none).
    const fifth = payload.indexOf(SEPARATOR_BYTE, frameAt);
    if (fifth < 0 || fifth - frameAt > 16) return undefined;
    const revText = payload.toString('latin1', frameAt, fifth);
    if (!DECIMAL.test(revText)) return undefined;
    rev = Number(revText);
    frameAt = fifth + 1;
  }
  const frame = payload.subarray(frameAt);
  if (frame.length < 2 || frame[0] !== 0x7b /* { */) return undefined;
  return { conversationId, seq: Number(seqText), rev, updated: isUpdatedFrame(frame), acceptedAtMs: Number(acceptedText), members, frame };
}

/**
 * Ephemeral frames (presence, typing: never stored) ride the same channels as the events above,
 * behind a first byte that neither a membership notice nor a delivery event can start with.
 *
 * On a user's channel, `>` then the exact WebSocket text of a frame for every socket of that
 * user: presence is published once per user who shares a conversation with the one whose state
 * changed, so a user in several of those conversations gets it once.
 */
export const USER_FRAME_MARK = '>';

export function encodeUserFrame(frame: string): string {
  return `${USER_FRAME_MARK}${frame}`;
}

/** The frame's bytes, or undefined when the payload is not a forwarded frame. */
export function decodeUserFrame(payload: Buffer): Buffer | undefined {
  if (payload.length < 3 || payload[0] !== USER_FRAME_MARK.charCodeAt(0) || payload[1] !== 0x7b /* { */) return undefined;
  return payload.subarray(1);
}

/**
 * On a conversation's channel, a typing event, published once whatever the number of members
 * by the script that checks membership and throttles (lua/relay-typing-2.lua):
 * `~<member,member,…> <frame>`, naming the members as the script read them, the typer excluded,
 * so a gateway hands the frame to exactly those users' sockets.
 */
export const TYPING_EVENT_MARK = '~';
export const typingEventParts = { mark: TYPING_EVENT_MARK, memberSeparator: MEMBER_SEPARATOR, separator: SEPARATOR } as const;

export interface TypingEvent {
  members: string[];
  frame: Buffer;
}

export function isTypingEvent(payload: Buffer): boolean {
  return payload[0] === TYPING_EVENT_MARK.charCodeAt(0);
}

/** Returns undefined for anything malformed; the caller logs and skips it. */
export function decodeTypingEvent(payload: Buffer): TypingEvent | undefined {
  if (!isTypingEvent(payload)) return undefined;
  const end = payload.indexOf(SEPARATOR_BYTE, 1);
  if (end < 0) return undefined;
  const members = payload.toString('latin1', 1, end).split(MEMBER_SEPARATOR);
  if (!members.every(isUsername)) return undefined;
  const frame = payload.subarray(end + 1);
  if (frame.length < 2 || frame[0] !== 0x7b /* { */) return undefined;
  return { members, frame };
}
