import { frameOfStored, type Message } from '@chat/contracts';
import type { HistorySlice, MessageStore } from '@chat/store';
import { coalesceReads } from './coalesce-reads.js';
import type { HistoryRead } from './conversation-stream.js';

function framesOf(slice: HistorySlice): HistoryRead {
  const frames = slice.raw.map((raw) => ({ seq: (JSON.parse(raw) as Message).seq, frame: frameOfStored(raw, slice.title) }));
  return { frames, lastSeq: slice.lastSeq };
}

/** The store reads behind resume, gap fill and first sight, as frames ready to send. */
export function createHistoryReads(messages: MessageStore) {
  return {
    /** Shared by every socket asking for the same range at once (see coalesce-reads.ts). */
    readHistory: coalesceReads(
      async (conversationId: string, after: number, until: number | undefined, limit: number) =>
        framesOf(await messages.history(conversationId, after, until, limit)),
      (conversationId, after, until, limit) => `${conversationId} ${after} ${until ?? '+'} ${limit}`,
    ),
    readRecent: async (conversationId: string, username: string, beforeSeq: number | undefined, sinceMs: number) =>
      framesOf(await messages.recentSince(conversationId, username, beforeSeq, sinceMs)),
  };
}
