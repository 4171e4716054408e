/**
 * The one Redis script both reference stacks store a message with: the conversation's next seq,
 * the message under it, and (with a channel) one PUBLISH of it. Returns the seq.
 *   KEYS[1] the conversation's hash   KEYS[2] its messages (sorted set)
 *   ARGV[1] the frame before the seq  ARGV[2] the frame after it  ARGV[3] channel, or '' for none
 */
export const STORE_MESSAGE_SCRIPT = `
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local frame = ARGV[1] .. seq .. ARGV[2]
redis.call('ZADD', KEYS[2], seq, frame)
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], frame) end
return seq`;

/** The keys and the frame's two halves of a message posted to `conversation` (64-char ids at most). */
export function storeMessageArgs(conversation: string, text: string, createdAt: string): { keys: [string, string]; head: string; tail: string } {
  return {
    keys: [`floor:c:${conversation}`, `floor:c:${conversation}:m`],
    head: `{"type":"message","conversationId":"${conversation}","seq":`,
    tail: `,"text":${JSON.stringify(text)},"createdAt":"${createdAt}"}`,
  };
}

/** A conversation id as the reference stacks take it, and the path a post goes to. */
const CONVERSATION_ID_PATTERN = '[\\w-]{1,64}';
export const CONVERSATION_ID = new RegExp(`^${CONVERSATION_ID_PATTERN}$`);
export const CONVERSATION_PATH = new RegExp(`^/c/(${CONVERSATION_ID_PATTERN})$`);
export const CHANNEL_PREFIX = 'floor:ch:';
