import { z } from 'zod';
import { idSchema, usernameSchema } from './identifiers.js';

/** Request schemas for the REST api. `strictObject` refuses unknown fields, as the contract asks. */

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
export const TITLE_MAX = 200;
export const MESSAGE_TEXT_MAX = 4000;
export const MEMBERS_MAX = 1000;
export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 500;

export const credentialsSchema = z.strictObject({
  username: usernameSchema,
  password: z.string().min(PASSWORD_MIN).max(PASSWORD_MAX),
});

const titleSchema = z.string().trim().min(1).max(TITLE_MAX);
const memberListSchema = z.array(usernameSchema).max(MEMBERS_MAX);

export const createConversationSchema = z.strictObject({
  title: titleSchema,
  users: memberListSchema,
});

export const updateConversationSchema = z
  .strictObject({
    title: titleSchema.optional(),
    users: memberListSchema.optional(),
  })
  .refine((body) => body.title !== undefined || body.users !== undefined, {
    message: 'give title, users or both',
  });

export const postMessageSchema = z.strictObject({
  text: z.string().min(1).max(MESSAGE_TEXT_MAX),
});

const seqParam = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer')
  .transform(Number);

export const listMessagesQuerySchema = z.strictObject({
  after: seqParam.optional(),
  limit: seqParam.pipe(z.number().int().min(1).max(PAGE_LIMIT_MAX)).optional(),
});

export const conversationIdParamSchema = idSchema;

export type Credentials = z.infer<typeof credentialsSchema>;
export type CreateConversationBody = z.infer<typeof createConversationSchema>;
export type UpdateConversationBody = z.infer<typeof updateConversationSchema>;
export type PostMessageBody = z.infer<typeof postMessageSchema>;
export type ListMessagesQuery = z.infer<typeof listMessagesQuerySchema>;
