import { z } from 'zod';

/** Usernames are lower-case and can never contain a Redis key separator, a glob or a hash tag. */
export const USERNAME_PATTERN = /^[a-z0-9_.-]{2,32}$/;

/** Server-chosen ids (conversations, messages) are URL-safe base64 and short. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const usernameSchema = z.string().regex(USERNAME_PATTERN, 'username must match ^[a-z0-9_.-]{2,32}$');
export const idSchema = z.string().regex(ID_PATTERN, 'id must be URL-safe and at most 64 characters');

/** Chosen by the client per message (1.1): a repeat of it is the same message, sent once. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const clientIdSchema = z
  .string()
  .regex(CLIENT_ID_PATTERN, 'clientId must match ^[A-Za-z0-9_-]{1,64}$')
  .describe('Chosen by the client per message: a repeat within 24 h is answered with the message stored the first time');

export function isUsername(value: unknown): value is string {
  return typeof value === 'string' && USERNAME_PATTERN.test(value);
}

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
