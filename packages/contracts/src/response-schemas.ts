import { z } from 'zod';
import { conversationSchema, messageSchema, userSchema } from './domain-schemas.js';
import { ERROR_CODES } from './error-codes.js';
import { idSchema } from './identifiers.js';

/**
 * The REST api's answer bodies that wrap the domain objects, as zod schemas (the OpenAPI document
 * is generated from them) with their inferred types.
 */

export const authResultSchema = z
  .strictObject({
    user: userSchema,
    token: z.string().min(1).describe('A JWT to send as `Authorization: Bearer <token>`'),
    expiresAt: z.iso.datetime().describe('When the token expires (its `exp` claim)'),
  })
  .describe('A user and a fresh token');

export const conversationListSchema = z
  .strictObject({
    items: z
      .array(conversationSchema)
      .describe('Oldest `createdAt` first; with `order=activity`, newest `lastMessageAt` (else `createdAt`) first, ties by ascending `id`'),
  })
  .describe("The caller's conversations");

export const messagePageSchema = z
  .strictObject({
    items: z.array(messageSchema).describe('Ascending `seq`'),
    nextAfter: z
      .number()
      .int()
      .min(0)
      .nullable()
      .describe('Pass as `after` to read the next page; null when this page reached the newest message'),
  })
  .describe('A page of messages');

export const messagePageBeforeSchema = z
  .strictObject({
    items: z.array(messageSchema).describe('Ascending `seq`: the newest messages before `before`'),
    nextBefore: z
      .number()
      .int()
      .min(1)
      .nullable()
      .describe('Pass as `before` to read the older page: the smallest `seq` here; null when no older message exists'),
  })
  .describe('A page of messages read backwards from `before`');

export const readStateSchema = z
  .strictObject({
    conversationId: idSchema,
    readSeq: z.number().int().min(0).describe("The caller's read cursor as it now stands"),
    unread: z.number().int().min(0).describe('`lastSeq - readSeq`, never below 0'),
  })
  .describe("The caller's read state in one conversation");

export const errorCodeSchema = z.enum(ERROR_CODES).describe('A stable slug to branch on');

export const errorBodySchema = z
  .strictObject({
    error: z.strictObject({
      code: errorCodeSchema,
      message: z.string().min(1).describe('Text for a human; never a stack trace or a Redis error'),
    }),
  })
  .describe('The body of every non-2xx answer');

export const healthSchema = z.strictObject({ status: z.enum(['ok', 'ready']) }).describe('Process health');

export type AuthResult = z.infer<typeof authResultSchema>;
export type ConversationList = z.infer<typeof conversationListSchema>;
export type MessagePage = z.infer<typeof messagePageSchema>;
export type MessagePageBefore = z.infer<typeof messagePageBeforeSchema>;
export type ReadState = z.infer<typeof readStateSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;
export type Health = z.infer<typeof healthSchema>;
