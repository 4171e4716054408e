import { z } from 'zod';
import { clientIdSchema, idSchema, usernameSchema } from './identifiers.js';
import { MEMBERS_MAX, MESSAGE_TEXT_MAX, PAGE_LIMIT_MAX, PASSWORD_MAX, PASSWORD_MIN, SEQ_PARAM_MAX, TITLE_MAX } from './limits.js';

/**
 * The REST api's request bodies and query strings, as the zod schemas the routes validate with,
 * and their types. `strictObject` refuses unknown fields, as the contract asks.
 */

export const credentialsSchema = z.strictObject({
  username: usernameSchema,
  password: z.string().min(PASSWORD_MIN).max(PASSWORD_MAX),
});

const titleSchema = z.string().trim().min(1).max(TITLE_MAX);
const memberListSchema = z.array(usernameSchema).max(MEMBERS_MAX);

export const createConversationSchema = z.strictObject({
  title: titleSchema,
  users: memberListSchema.describe('Other members; the creator is always a member'),
});

export const updateConversationSchema = z
  .strictObject({
    title: titleSchema.optional(),
    users: memberListSchema.optional().describe('The new member list; the caller stays a member'),
  })
  .refine((body) => body.title !== undefined || body.users !== undefined, {
    message: 'give title, users or both',
  });

export const postMessageSchema = z.strictObject({
  text: z.string().min(1).max(MESSAGE_TEXT_MAX),
  clientId: clientIdSchema.optional(),
});

/** `order=activity` (1.1): newest activity first; without it, the version-1 order. */
export const listConversationsQuerySchema = z.strictObject({
  order: z.literal('activity').optional(),
});

/** Moves the caller's read cursor forward (1.1). */
export const markReadSchema = z.strictObject({
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Read up to this seq; at most the conversation\'s `lastSeq`'),
});

/** The body of an edit (1.1): the new text, with the limits of a new message's. */
export const editMessageSchema = z.strictObject({
  text: z.string().min(1).max(MESSAGE_TEXT_MAX),
});

const seqParam = z
  .string()
  .regex(new RegExp(`^\\d{1,${String(SEQ_PARAM_MAX).length}}$`), 'must be a non-negative integer')
  .transform(Number);

/** History forwards (`after`, version 1) or backwards (`before`, version 1.1), never both. */
export const listMessagesQuerySchema = z
  .strictObject({
    after: seqParam.optional(),
    before: seqParam.pipe(z.number().int().min(1)).optional(),
    limit: seqParam.pipe(z.number().int().min(1).max(PAGE_LIMIT_MAX)).optional(),
  })
  .refine((query) => query.after === undefined || query.before === undefined, { message: 'give after or before, not both' });

/**
 * The body of a POST that needs none (leave): it may be left out; when sent, it is `{}`, as strict
 * as every other body.
 */
export const emptyBodySchema = z.strictObject({}).describe('Nothing: the body may be left out, or be `{}`');

export const conversationIdParamSchema = idSchema;

/** The `{seq}` of a message route: a seq, 1.. (a larger one than any stored is 404, not 400). */
export const messageSeqParamSchema = seqParam.pipe(z.number().int().min(1));

export type Credentials = z.infer<typeof credentialsSchema>;
export type CreateConversationBody = z.infer<typeof createConversationSchema>;
export type UpdateConversationBody = z.infer<typeof updateConversationSchema>;
export type PostMessageBody = z.infer<typeof postMessageSchema>;
export type EditMessageBody = z.infer<typeof editMessageSchema>;
export type ListMessagesQuery = z.infer<typeof listMessagesQuerySchema>;
export type ListConversationsQuery = z.infer<typeof listConversationsQuerySchema>;
export type MarkReadBody = z.infer<typeof markReadSchema>;

/** What a client sends (before the api trims the title): the SDK's argument types. */
export type CreateConversationInput = z.input<typeof createConversationSchema>;
export type UpdateConversationInput = z.input<typeof updateConversationSchema>;
