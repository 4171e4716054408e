import { z } from 'zod';
import { idSchema, usernameSchema } from './identifiers.js';
import { PRESENCE_QUERY_MAX } from './limits.js';

/**
 * Presence and typing (version 1.1): ephemeral, never stored, never replayed. The frames both
 * ways and the `GET /api/presence` query and answer, as zod schemas and their types.
 */

/** Client → server: the sender is typing in a conversation. */
export const typingClientFrameSchema = z.strictObject({
  type: z.literal('typing'),
  conversationId: idSchema,
});

/** Server → client: another member is typing (the typer's own sockets never get it). */
export const typingFrameSchema = z.strictObject({
  type: z.literal('typing'),
  conversationId: idSchema,
  user: usernameSchema,
});

export const presenceFrameSchema = z.strictObject({
  type: z.literal('presence'),
  user: usernameSchema,
  online: z.boolean(),
  lastSeen: z.iso.datetime().describe('Online: when they came online; offline: when they were last connected'),
});

const usernameListSchema = z
  .string()
  .transform((text) => text.split(','))
  .pipe(z.array(usernameSchema).min(1).max(PRESENCE_QUERY_MAX));

export const presenceQuerySchema = z.strictObject({
  users: usernameListSchema.describe(`Comma-separated usernames, 1 to ${PRESENCE_QUERY_MAX}`),
});

export const presenceItemSchema = z.strictObject({
  user: usernameSchema,
  online: z.boolean(),
  lastSeen: z.iso.datetime().nullable().describe('Null for a user never seen online'),
});

export const presenceListSchema = z
  .strictObject({
    items: z.array(presenceItemSchema).describe('The listed users who share a conversation with the caller, and the caller; others are left out'),
  })
  .describe('Who is online');

export type TypingClientFrame = z.infer<typeof typingClientFrameSchema>;
export type TypingFrame = z.infer<typeof typingFrameSchema>;
export type PresenceFrame = z.infer<typeof presenceFrameSchema>;
export type PresenceQuery = z.infer<typeof presenceQuerySchema>;
export type PresenceItem = z.infer<typeof presenceItemSchema>;
export type PresenceList = z.infer<typeof presenceListSchema>;
