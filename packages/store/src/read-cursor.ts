/**
 * Where a user's read cursor in a conversation is kept. Two places, and the cursor is the higher:
 * - the conversation's `reads` hash (keys.ts reads()), moved by `PUT …/read` (mark-read-3.lua);
 * - the field `authoredSeqField(user)` of the conversation's own hash: the seq of the last message
 *   the user wrote there. They have read what they wrote, so every append moves it, in the same
 *   HSET that takes the seq (includes/append-message.lua): a message costs no command for it, where
 *   a write to the `reads` hash was one of its ~14 Redis commands.
 * Cursors written to `reads` by earlier releases' appends still count through the max.
 */
export function authoredSeqField(username: string): string {
  return `a:${username}`;
}

/** The user's cursor from both places (either may be absent). */
export function readCursorOf(marked: string | null | undefined, authored: string | null | undefined): number {
  return Math.max(Number(marked ?? 0), Number(authored ?? 0));
}
