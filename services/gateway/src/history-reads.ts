import { frameOfStored, type Message } from '@chat/contracts';
import type { ChangeSlice, HistorySlice, MessageStore } from '@chat/store';
import { coalesceReads } from './coalesce-reads.js';
import type { ChangesRead, HistoryRead, StreamItem } from './conversation-stream.js';

function itemOf(raw: string, title: string): StreamItem {
  const { seq, rev } = JSON.parse(raw) as Pick<Message, 'seq'> & { rev?: number };
  return { seq, rev, updated: false, frame: frameOfStored(raw, title) };
}

function itemsOf(slice: HistorySlice): HistoryRead {
  return { items: slice.raw.map((raw) => itemOf(raw, slice.title)), lastSeq: slice.lastSeq, rev: slice.rev };
}

function changesOf(slice: ChangeSlice): ChangesRead {
  return { items: slice.changes.map(({ raw }) => itemOf(raw, slice.title)), rev: slice.rev, readUntil: slice.readUntil, more: slice.more };
}

/** The store reads behind resume, gap fill and first sight, as items ready to send. */
export function createHistoryReads(messages: MessageStore) {
  return {
    /** Shared by every socket asking for the same range at once (see coalesce-reads.ts). */
    readHistory: coalesceReads(
      async (conversationId: string, after: number, until: number | undefined, limit: number) =>
        itemsOf(await messages.history(conversationId, after, until, limit)),
      (conversationId, after, until, limit) => `${conversationId} ${after} ${until ?? '+'} ${limit}`,
    ),
    /** Shared like readHistory: a gap in live events opens for every local member at once. */
    readChanges: coalesceReads(
      async (conversationId: string, after: number, until: number | undefined, maxSeq: number | undefined, limit: number) =>
        changesOf(await messages.changesBetween(conversationId, after, until, maxSeq, limit)),
      (conversationId, after, until, maxSeq, limit) => `${conversationId} ${after} ${until ?? '+'} ${maxSeq ?? '+'} ${limit}`,
    ),
    readRecent: async (conversationId: string, username: string, beforeSeq: number | undefined, sinceMs: number) =>
      itemsOf(await messages.recentSince(conversationId, username, beforeSeq, sinceMs)),
  };
}
