import { ChatApiError, type ChatApi, type Conversation, type Message, type Summary } from '@chat/client';
import type { ConversationListItem } from './conversation-list-view.js';

interface Entry {
  /** As the server last said, moved on by live messages and read frames (lastSeq, readSeq never go back). */
  conversation: Conversation;
}

export interface ConversationListDeps {
  api: ChatApi;
  /** The signed-in user: their own messages move their read cursor, and they are not listed as "with". */
  me: string;
  /** Aborted when the screen ends: answers that arrive after it are dropped. */
  signal: AbortSignal;
  /** The user is no longer a member of `id`: the screen drops what it holds for it. */
  onForget: (id: string) => void;
  /** The list changed (after an answer from the api). */
  onChange: () => void;
  /** Every REST failure goes through here (an expired token ends the session); returns what to show. */
  failed: (error: unknown) => string;
}

function timeOf(iso: string, fallback: number): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? fallback : ms;
}

/** The time a conversation was last active: its newest message, else its creation. */
function activityOf(conversation: Conversation): number {
  return timeOf(conversation.lastMessageAt ?? conversation.createdAt, 0);
}

/** `conversation` with `readSeq` and `lastSeq` moved forward (never back) and `unread` derived. */
function withCursor(conversation: Conversation, lastSeq: number, readSeq: number): Conversation {
  const last = Math.max(conversation.lastSeq, lastSeq);
  const read = Math.min(Math.max(conversation.readSeq, readSeq), last);
  return { ...conversation, lastSeq: last, readSeq: read, unread: last - read };
}

/**
 * The conversations this user is in, as the sidebar shows them: read over REST (by activity) on
 * every (re)connect, kept current by the live connection (messages, `read` and `conversation`
 * frames), ordered by newest activity first, with the unread counts the server keeps per user
 * (the same on every device).
 */
export class ConversationListState {
  private readonly entries = new Map<string, Entry>();
  /** Conversations first seen in a live message, whose full record is being read. */
  private readonly fetching = new Set<string>();
  private refreshing: Promise<void> | undefined;
  /** The list has been read once: an empty list now means "no conversations". */
  loaded = false;
  /** Why the list could not be read, shown above it; undefined when it could. */
  error: string | undefined;

  constructor(private readonly deps: ConversationListDeps) {}

  get(id: string): Conversation | undefined {
    return this.entries.get(id)?.conversation;
  }

  /** Reads the list again (one request at a time, however often asked). */
  refresh(): Promise<void> {
    // Only these can have been left; one first seen while the list is read is not in its answer.
    const known = new Set(this.entries.keys());
    this.refreshing ??= this.deps.api
      .listConversations({ order: 'activity' })
      .then(
        (conversations) => {
          if (this.deps.signal.aborted) return;
          this.error = undefined;
          this.loaded = true;
          const present = new Set(conversations.map((conversation) => conversation.id));
          for (const conversation of conversations) this.upsert(conversation);
          for (const id of [...this.entries.keys()]) {
            // A conversation first seen live is kept while its own record is being read.
            if (known.has(id) && !present.has(id) && !this.fetching.has(id)) this.forget(id);
          }
          this.deps.onChange();
        },
        (error: unknown) => {
          if (this.deps.signal.aborted) return;
          this.error = `Could not load your conversations: ${this.deps.failed(error)}`;
          this.deps.onChange();
        },
      )
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** Adds or updates a conversation from the server (REST, `added`, `updated`): its cursors never go back. */
  upsert(conversation: Conversation): void {
    const entry = this.entries.get(conversation.id);
    if (!entry) this.entries.set(conversation.id, { conversation });
    else entry.conversation = withCursor(conversation, entry.conversation.lastSeq, entry.conversation.readSeq);
  }

  /** A message was stored (sent here, or seen live): it moves up; the author's own moves their cursor. */
  see(message: Message | Summary): void {
    const id = message.conversationId;
    let entry = this.entries.get(id);
    if (!entry) {
      // Known only from this message until its record is read (the `added` frame normally comes first).
      entry = {
        conversation: {
          id,
          title: 'conversationTitle' in message ? message.conversationTitle : '',
          users: [],
          createdAt: message.createdAt,
          createdBy: message.author,
          lastSeq: 0,
          lastMessageAt: null,
          readSeq: 0,
          unread: 0,
        },
      };
      this.entries.set(id, entry);
      this.fetch(id);
    }
    const { conversation } = entry;
    const title = 'conversationTitle' in message && message.conversationTitle ? message.conversationTitle : conversation.title;
    const newest = conversation.lastMessageAt === null || timeOf(message.createdAt, 0) > timeOf(conversation.lastMessageAt, 0);
    entry.conversation = withCursor(
      { ...conversation, title, lastMessageAt: newest ? message.createdAt : conversation.lastMessageAt },
      message.seq,
      message.author === this.deps.me ? message.seq : 0,
    );
  }

  /** The user's read cursor is now `seq` (a `read` frame from any of their devices). */
  read(id: string, seq: number): void {
    const entry = this.entries.get(id);
    if (entry) entry.conversation = withCursor(entry.conversation, 0, seq);
  }

  /** Everything in `id` is read now: returns the seq to tell the server, or undefined when there is nothing new. */
  markRead(id: string): number | undefined {
    const entry = this.entries.get(id);
    if (!entry || entry.conversation.unread === 0) return undefined;
    entry.conversation = withCursor(entry.conversation, 0, entry.conversation.lastSeq);
    return entry.conversation.readSeq;
  }

  /** The user is no longer a member: drop it here and everywhere else. */
  forget(id: string): void {
    this.entries.delete(id);
    this.deps.onForget(id);
  }

  /** The rows of the sidebar, newest activity first. */
  items(): ConversationListItem[] {
    // The server's order=activity: newest activity first, ties by ascending id.
    return [...this.entries.values()]
      .map((entry) => entry.conversation)
      .sort((a, b) => activityOf(b) - activityOf(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((conversation) => ({
        id: conversation.id,
        title: conversation.title,
        others: conversation.users.filter((user) => user !== this.deps.me),
        unread: conversation.unread,
      }));
  }

  /** A conversation first seen in a live message (someone added this user): read its record. */
  private fetch(id: string): void {
    if (this.fetching.has(id)) return;
    this.fetching.add(id);
    this.deps.api
      .getConversation(id)
      .then(
        (conversation) => {
          if (this.deps.signal.aborted) return;
          this.upsert(conversation);
          this.deps.onChange();
        },
        (error: unknown) => {
          if (this.deps.signal.aborted) return;
          if (error instanceof ChatApiError && error.status === 404) this.forget(id);
          else console.warn(`could not read conversation ${id}: ${this.deps.failed(error)}`);
          this.deps.onChange();
        },
      )
      .finally(() => this.fetching.delete(id));
  }
}
