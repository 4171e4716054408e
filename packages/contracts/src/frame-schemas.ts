import { z } from 'zod';
import { summarySchema } from './domain-schemas.js';
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
});

export const authFrameSchema = z.strictObject({
  type: z.literal('auth'),
  token: z.string().min(1).max(8192),
});

export const pingFrameSchema = z.strictObject({ type: z.literal('ping') });

export const clientFrameSchema = z.discriminatedUnion('type', [resumeFrameSchema, authFrameSchema, pingFrameSchema, typingClientFrameSchema]);

export type ResumeFrame = z.infer<typeof resumeFrameSchema>;
export type AuthFrame = z.infer<typeof authFrameSchema>;
export type PingFrame = z.infer<typeof pingFrameSchema>;
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/* Server → client. */

export const readyFrameSchema = z.strictObject({
  type: z.literal('ready'),
  user: usernameSchema,
  epoch: storeEpochSchema.describe('The store epoch: keep it with the cursors and send it back in `resume`'),
});

export const messageFrameSchema = z.strictObject({
  type: z.literal('message'),
  data: summarySchema,
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

export const serverFrameSchema = z.discriminatedUnion('type', [
  readyFrameSchema,
  messageFrameSchema,
  resumedFrameSchema,
  errorFrameSchema,
  pongFrameSchema,
  typingFrameSchema,
  presenceFrameSchema,
]);

export type ReadyFrame = z.infer<typeof readyFrameSchema>;
export type MessageFrame = z.infer<typeof messageFrameSchema>;
export type ResumedFrame = z.infer<typeof resumedFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type PongFrame = z.infer<typeof pongFrameSchema>;
export type ServerFrame = z.infer<typeof serverFrameSchema>;
