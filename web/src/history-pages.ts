import type { Message, MessagePage } from '@chat/client';

/** The one REST call history paging needs; a ChatApi is one. */
export interface MessagePager {
  listMessages(conversationId: string, options: { after?: number; limit?: number }): Promise<MessagePage>;
}

export interface LatestPage {
  /** Ascending seq, ending at the newest message. */
  items: Message[];
  /** Older messages exist before the first item. */
  hasOlder: boolean;
}

/**
 * Outcome of a one-message probe at `after`: `none` (no message after it), `last` (the newest
 * message itself) or `more` (a message exists after `seq`).
 */
type Probe = { kind: 'none' } | { kind: 'last'; seq: number } | { kind: 'more'; seq: number };

async function probe(pager: MessagePager, conversationId: string, after: number): Promise<Probe> {
  const page = await pager.listMessages(conversationId, { after, limit: 1 });
  const hit = page.items[0];
  if (hit === undefined) return { kind: 'none' };
  return page.nextAfter === null ? { kind: 'last', seq: hit.seq } : { kind: 'more', seq: hit.seq };
}

/**
 * The newest seq of a conversation known to hold more than `known` messages (some seq > known
 * exists). The api only pages forward, so: gallop forward with one-message probes until one
 * finds nothing, then bisect. O(log n) tiny requests instead of reading the whole history.
 */
async function findNewestSeq(pager: MessagePager, conversationId: string, known: number, firstStep: number): Promise<number> {
  let below = known; // some message has a seq > below
  let step = Math.max(1, firstStep);
  let above: number | undefined; // no message has a seq > above
  while (above === undefined) {
    const at = below + step;
    const result = await probe(pager, conversationId, at);
    if (result.kind === 'last') return result.seq;
    if (result.kind === 'none') above = at;
    else {
      below = result.seq;
      step *= 2;
    }
  }
  while (above - below > 1) {
    const at = Math.floor((below + above) / 2);
    const result = await probe(pager, conversationId, at);
    if (result.kind === 'last') return result.seq;
    if (result.kind === 'none') above = at;
    else below = result.seq;
  }
  // A message exists after `below` and none after `below + 1`: that one is the newest.
  return above;
}

/**
 * The newest page of a conversation (at most `pageSize` messages, more if some arrive while it is
 * read). A conversation of up to `pageSize` messages takes one request.
 */
export async function readLatestPage(pager: MessagePager, conversationId: string, pageSize: number): Promise<LatestPage> {
  const first = await pager.listMessages(conversationId, { after: 0, limit: pageSize });
  if (first.nextAfter === null) return { items: first.items, hasOlder: false };

  const newest = await findNewestSeq(pager, conversationId, first.nextAfter, pageSize);
  const after = Math.max(0, newest - pageSize);
  const items: Message[] = [];
  let page = await pager.listMessages(conversationId, { after, limit: pageSize });
  items.push(...page.items);
  // Messages accepted since the probes: read on to the end, so the run reaches the newest.
  while (page.nextAfter !== null && page.items.length > 0) {
    page = await pager.listMessages(conversationId, { after: page.nextAfter, limit: pageSize });
    items.push(...page.items);
  }
  // A first item above after + 1 means the older history was trimmed away: nothing older to show.
  const oldest = items[0]?.seq;
  return { items, hasOlder: after > 0 && oldest === after + 1 };
}

export interface OlderPage {
  /** Ascending seq, all below the given seq. */
  items: Message[];
  hasOlder: boolean;
}

/** The page just before `beforeSeq` (at most `pageSize` messages). */
export async function readOlderPage(pager: MessagePager, conversationId: string, beforeSeq: number, pageSize: number): Promise<OlderPage> {
  const after = Math.max(0, beforeSeq - 1 - pageSize);
  const limit = beforeSeq - 1 - after;
  if (limit <= 0) return { items: [], hasOlder: false };
  const page = await pager.listMessages(conversationId, { after, limit });
  const items = page.items.filter((message) => message.seq < beforeSeq);
  // Fewer than asked for: the rest was trimmed from the history.
  return { items, hasOlder: after > 0 && items.length === limit };
}
