/**
 * Every posted text starts with `n<nonce>.` (a number unique in this run) and is padded to the
 * configured size. The nonce ties a frame to the moment just before its POST even when the frame
 * arrives before the 201 does.
 */
export function messageText(nonce: number, bytes: number): string {
  const head = `n${nonce}.`;
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length);
}

export interface MessageFrameFields {
  conversationId: string;
  seq: number;
  /** -1 when the text carries no nonce (a message this run did not post). */
  nonce: number;
}

const MESSAGE_PREFIX = Buffer.from('{"type":"message"');
const SEQ_KEY = Buffer.from('"seq":');
const TEXT_KEY = Buffer.from('"text":"');
const CONVERSATION_KEY = Buffer.from('"conversationId":"');
const QUOTE = 0x22;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

function digitsAt(frame: Buffer, start: number, terminator: number | undefined): number {
  let value = 0;
  let i = start;
  for (; i < frame.length; i += 1) {
    const byte = frame[i] as number;
    if (byte < ZERO || byte > NINE) break;
    value = value * 10 + (byte - ZERO);
  }
  if (i === start || (terminator !== undefined && frame[i] !== terminator)) return -1;
  return value;
}

/**
 * Reads the three fields the accounting needs from a `message` frame without parsing the JSON:
 * at tens of thousands of frames a second the generator must stay cheap. A key such as `"seq":`
 * cannot occur inside a JSON string (its quotes would be escaped), so the first match is the field.
 * Returns undefined for any other frame, or when the shape is not what it expects.
 */
export function readMessageFrame(frame: Buffer): MessageFrameFields | undefined {
  if (frame.length < MESSAGE_PREFIX.length || frame.compare(MESSAGE_PREFIX, 0, MESSAGE_PREFIX.length, 0, MESSAGE_PREFIX.length) !== 0) {
    return undefined;
  }
  // The api stores {id, conversationId, seq, author, text, …}: search each key after the previous
  // one (one pass over the frame), and from the start only if the order ever differs.
  const convAt = frame.indexOf(CONVERSATION_KEY, MESSAGE_PREFIX.length);
  if (convAt < 0) return undefined;
  const idStart = convAt + CONVERSATION_KEY.length;
  const idEnd = frame.indexOf(QUOTE, idStart);
  if (idEnd < 0) return undefined;
  let seqAt = frame.indexOf(SEQ_KEY, idEnd);
  if (seqAt < 0) seqAt = frame.indexOf(SEQ_KEY, MESSAGE_PREFIX.length);
  if (seqAt < 0) return undefined;
  let textAt = frame.indexOf(TEXT_KEY, seqAt);
  if (textAt < 0) textAt = frame.indexOf(TEXT_KEY, MESSAGE_PREFIX.length);
  if (textAt < 0) return undefined;
  const seq = digitsAt(frame, seqAt + SEQ_KEY.length, undefined);
  if (seq < 0) return undefined;
  const textStart = textAt + TEXT_KEY.length;
  const nonce = frame[textStart] === 0x6e /* n */ ? digitsAt(frame, textStart + 1, DOT) : -1;
  return { conversationId: frame.toString('latin1', idStart, idEnd), seq, nonce };
}
