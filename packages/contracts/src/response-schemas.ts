import { z } from 'zod';
import type { AuthResult, Conversation, Message, User } from './domain.js';
import type { ErrorBody, ErrorCode } from './errors.js';
import { ID_PATTERN, USERNAME_PATTERN } from './identifiers.js';
import { MESSAGE_TEXT_MAX, TITLE_MAX } from './rest-schemas.js';

/**
 * The REST api's answers as zod schemas, so the OpenAPI document is generated rather than written
 * twice. The api builds its answers from the interfaces in `domain.ts`; the `satisfies` checks
 * below fail the build if a schema and its interface drift apart. Objects are strict because the
 * answers carry nothing else (a client may rely on that; the api tests check it too).
 */

const isoTime = z.iso.datetime().describe('ISO-8601 UTC time');
const username = z.string().regex(USERNAME_PATTERN);
const id = z.string().regex(ID_PATTERN);

export const userSchema = z
  .strictObject({
    username,
    createdAt: isoTime,
  })
  .describe('A registered user');

export const conversationSchema = z
  .strictObject({
    id: id.describe('Opaque, server-chosen, URL-safe'),
    title: z.string().min(1).max(TITLE_MAX),
    users: z.array(username).describe('Members, sorted by username; always includes the creator at creation'),
    createdAt: isoTime,
    createdBy: username,
  })
  .describe('A conversation the caller is a member of');

export const messageSchema = z
  .strictObject({
    id,
    conversationId: id,
    seq: z.number().int().min(1).describe('1, 2, 3 … within one conversation: no gaps, no repeats, in acceptance order'),
    author: username,
    text: z.string().min(1).max(MESSAGE_TEXT_MAX),
    createdAt: isoTime,
  })
  .describe('A stored message');

export const authResultSchema = z
  .strictObject({
    user: userSchema,
    token: z.string().min(1).describe('A JWT to send as `Authorization: Bearer <token>`'),
    expiresAt: isoTime.describe('When the token expires (its `exp` claim)'),
  })
  .describe('A user and a fresh token');

export const conversationListSchema = z
  .strictObject({
    items: z.array(conversationSchema).describe('Oldest `createdAt` first'),
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

const ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
] as const satisfies readonly ErrorCode[];

export const errorBodySchema = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(ERROR_CODES).describe('A stable slug to branch on'),
      message: z.string().min(1).describe('Text for a human; never a stack trace or a Redis error'),
    }),
  })
  .describe('The body of every non-2xx answer');

export const healthSchema = z.strictObject({ status: z.enum(['ok', 'ready']) }).describe('Process health');

/** True when A and B are the same type; a `false` below is a compile error. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// Compile-time: each schema's output is exactly the wire type the api sends, both ways, so a field
// added to an interface and not here (or the reverse) fails the build.
const schemasMatchTheWireTypes: [
  Same<(typeof ERROR_CODES)[number], ErrorCode>,
  Same<z.output<typeof userSchema>, User>,
  Same<z.output<typeof conversationSchema>, Conversation>,
  Same<z.output<typeof messageSchema>, Message>,
  Same<z.output<typeof authResultSchema>, AuthResult>,
  Same<z.output<typeof conversationListSchema>, { items: Conversation[] }>,
  Same<z.output<typeof messagePageSchema>, { items: Message[]; nextAfter: number | null }>,
  Same<z.output<typeof errorBodySchema>, ErrorBody>,
] = [true, true, true, true, true, true, true, true];
void schemasMatchTheWireTypes;
