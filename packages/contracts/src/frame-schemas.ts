import { z } from 'zod';
import { conversationSchema, summarySchema } from './domain-schemas.js';
import { idSchema, usernameSchema } from './identifiers.js';
import { RESUME_CURSORS_MAX } from './limits.js';
import { presenceFrameSchema, typingClientFrameSchema, typingFrameSchema } from './presence-schemas.js';

/**
 * The WebSocket frames (JSON text), both ways, as zod schemas and their inferred types. The gateway
 * validates client frames with these; server frames are described here so their types have one
 * source (the gateway builds them, the SDK reads them).
 */

const storeEpochSchema = z.string().min(1).max(64);

/* Client → server. Anything else is answered with an `error` frame. */

export const resumeFrameSchema = z.strictObject({
  type: z.literal('resume'),
  epoch: storeEpochSchema
    .optional()
    .describe('The store epoch the cursors were seen under (from the last `ready`); another epoch cannot be resumed'),
  cursors: z
    .record(idSchema, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
    .refine((cursors) => Object.keys(cursors).length <= RESUME_CURSORS_MAX, {
      message: `at most ${RESUME_CURSORS_MAX} cursors`,
    })
    .describe('Last seq seen per conversation'),
  revs: z
    .record(idSchema, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
    .refine((revs) => Object.keys(revs).length <= RESUME_CURSORS_MAX, { message: `at most ${RESUME_CURSORS_MAX} revs` })
    .optional()
    .describe(
      'Highest `rev` seen per conversation (1.1): edits and deletions after it, of messages at or below the cursor, are replayed as `message_updated`',
    ),
});

export const authFrameSchema = z.strictObject({
  type: z.literal('auth'),
  token: z.string().min(1).max(8192),
});

export const pingFrameSchema = z.strictObject({ type: z.literal('ping') });

/** Every client frame: the gateway validates with their union, the AsyncAPI document lists each. */
export const CLIENT_FRAME_SCHEMAS = [resumeFrameSchema, authFrameSchema, pingFrameSchema, typingClientFrameSchema] as const;

export const clientFrameSchema = z.discriminatedUnion('type', CLIENT_FRAME_SCHEMAS);

export type ResumeFrame = z.infer<typeof resumeFrameSchema>;
export type AuthFrame = z.infer<typeof authFrameSchema>;
export type PingFrame = z.infer<typeof pingFrameSchema>;
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/* Server → client. */

/** What `ready` says the server implements beyond version 1. */
export const PROTOCOL_VERSION = '1.1';

export const readyFrameSchema = z.strictObject({
  type: z.literal('ready'),
  user: usernameSchema,
  epoch: storeEpochSchema.describe('The store epoch: keep it with the cursors and send it back in `resume`'),
  protocol: z.string().optional().describe('The contract version beyond 1 the server implements (`1.1`); absent: version 1'),
});

export const messageFrameSchema = z.strictObject({
  type: z.literal('message'),
  data: summarySchema,
});

export const messageUpdatedFrameSchema = z.strictObject({
  type: z.literal('message_updated'),
  data: summarySchema.describe('The message as it now stands (edited, or a tombstone)'),
});

export const resumedFrameSchema = z.strictObject({
  type: z.literal('resumed'),
  recovered: z.boolean(),
  conversations: z
    .array(idSchema)
    .optional()
    .describe('With `recovered: false`: the conversations whose history no longer reaches back to the cursor'),
});

export const errorFrameSchema = z.strictObject({
  type: z.literal('error'),
  // A string rather than the ErrorCode enum: a newer gateway may send a code this client does not know.
  code: z.string().describe('A stable slug to branch on (`rate_limited`, `forbidden`, `invalid_request` …)'),
  message: z.string(),
});

export const pongFrameSchema = z.strictObject({ type: z.literal('pong') });

export const readFrameSchema = z
  .strictObject({
    type: z.literal('read'),
    conversationId: idSchema,
    seq: z.number().int().min(0).describe("The user's read cursor as it now stands"),
  })
  .describe("The user's read cursor moved (PUT …/read, from any of their devices); the author's own post sends none");

export const conversationFrameSchema = z
  .discriminatedUnion('event', [
    z.strictObject({
      type: z.literal('conversation'),
      event: z.enum(['added', 'updated']).describe('`added`: the user became a member (before any message of it); `updated`: its title or members changed'),
      data: conversationSchema.describe('The conversation, with the receiving user\'s `readSeq` and `unread`'),
    }),
    z.strictObject({
      type: z.literal('conversation'),
      event: z.literal('removed').describe('The user was removed or left: no frame of it follows'),
      data: z.strictObject({ id: idSchema }),
    }),
  ])
  .describe("A change of the user's conversations: added, updated or removed");

/**
 * Every server frame. The union below and the AsyncAPI document are built from this list: a new
 * frame is added here and nowhere else.
 */
export const SERVER_FRAME_SCHEMAS = [
  readyFrameSchema,
  messageFrameSchema,
  messageUpdatedFrameSchema,
  resumedFrameSchema,
  errorFrameSchema,
  pongFrameSchema,
  readFrameSchema,
  conversationFrameSchema,
  typingFrameSchema,
  presenceFrameSchema,
] as const;

export const serverFrameSchema = z.discriminatedUnion('type', SERVER_FRAME_SCHEMAS);

export type ReadyFrame = z.infer<typeof readyFrameSchema>;
export type MessageFrame = z.infer<typeof messageFrameSchema>;
export type MessageUpdatedFrame = z.infer<typeof messageUpdatedFrameSchema>;
export type ResumedFrame = z.infer<typeof resumedFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type PongFrame = z.infer<typeof pongFrameSchema>;
export type ReadFrame = z.infer<typeof readFrameSchema>;
export type ConversationFrame = z.infer<typeof conversationFrameSchema>;
export type ServerFrame = z.infer<typeof serverFrameSchema>;
