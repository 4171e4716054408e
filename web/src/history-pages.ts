import type { Message, MessagePageBefore } from '@chat/client';

/** The one REST call history paging needs; a ChatApi is one. */
export interface MessagePager {
  listMessagesBefore(conversationId: string, options: { before?: number; limit?: number }): Promise<MessagePageBefore>;
}

export interface HistoryPage {
  /** Ascending seq. */
  items: Message[];
  /** Older messages exist before the first item. */
  hasOlder: boolean;
}

/**
 * One page read backwards (wire 1.1): at most `pageSize` messages with a seq below `beforeSeq`,
 * or the newest of the conversation without it. One request either way.
 */
export async function readPageBefore(
  pager: MessagePager,
  conversationId: string,
  beforeSeq: number | undefined,
  pageSize: number,
): Promise<HistoryPage> {
  const page = await pager.listMessagesBefore(conversationId, { ...(beforeSeq === undefined ? {} : { before: beforeSeq }), limit: pageSize });
  // nextBefore is null once the oldest message kept (seq 1, or the oldest HISTORY_LIMIT left) is in.
  return { items: page.items, hasOlder: page.nextBefore !== null };
}
