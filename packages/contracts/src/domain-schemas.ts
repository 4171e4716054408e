import { z } from 'zod';
import { clientIdSchema, idSchema, usernameSchema } from './identifiers.js';
import { MESSAGE_TEXT_MAX, TITLE_MAX } from './limits.js';

/**
 * The objects users see on the wire (the REST answers, and the `message` frame's `data`), as zod
 * schemas; their TypeScript types are inferred here and nowhere else. Objects are strict because
 * the answers carry nothing else (a client may rely on that; the api tests check it too). A
 * `.describe()` text ends up in the OpenAPI document and in the SDK's declarations.
 */

const isoTime = z.iso.datetime().describe('ISO-8601 UTC time');

export const userSchema = z
  .strictObject({
    username: usernameSchema,
    createdAt: isoTime,
  })
  .describe('A registered user');

export const conversationSchema = z
  .strictObject({
    id: idSchema.describe('Opaque, server-chosen, URL-safe'),
    title: z.string().min(1).max(TITLE_MAX),
    users: z.array(usernameSchema).describe('Members, sorted by username; always includes the creator at creation'),
    createdAt: isoTime,
    createdBy: usernameSchema,
    lastSeq: z.number().int().min(0).describe('The seq of the newest message; 0 when there is none'),
    lastMessageAt: isoTime.nullable().describe('When the newest message was posted (edits and deletions do not move it); null when there is none'),
    readSeq: z.number().int().min(0).describe("The seq up to which the user it is shown to has read (their read cursor, on every device)"),
    unread: z.number().int().min(0).describe('`lastSeq - readSeq`, never below 0'),
  })
  .describe('A conversation the caller is a member of, with its read state for the user it is shown to');

export const messageSchema = z
  .strictObject({
    id: idSchema,
    conversationId: idSchema,
    seq: z.number().int().min(1).describe('1, 2, 3 … within one conversation: no gaps, no repeats, in acceptance order'),
    rev: z
      .number()
      .int()
      .min(1)
      .describe("The conversation's `rev` at this message's latest change (its creation, edit or deletion): order of every change in the conversation"),
    author: usernameSchema,
    text: z.string().max(MESSAGE_TEXT_MAX).describe('1.. characters; `""` only once the message is deleted'),
    createdAt: isoTime,
    clientId: clientIdSchema.optional().describe('The clientId it was posted with, if any'),
    editedAt: isoTime.optional().describe('When the author last edited the text'),
    deletedAt: isoTime.optional().describe('When the author deleted the message: a tombstone, its `text` is `""`'),
  })
  .describe('A stored message, in its current version');

export const summarySchema = messageSchema
  .extend({ conversationTitle: z.string().min(1).max(TITLE_MAX) })
  .describe('What the live connection delivers: a message plus what a notification needs');

export type User = z.infer<typeof userSchema>;
export type Conversation = z.infer<typeof conversationSchema>;
export type Message = z.infer<typeof messageSchema>;
export type Summary = z.infer<typeof summarySchema>;
