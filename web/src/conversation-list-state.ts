import { ChatApiError, type ChatApi, type Conversation, type Summary } from '@chat/client';
import type { ConversationListItem } from './conversation-list-view.js';

interface Entry {
  conversation: Conversation;
  /** Messages from others that arrived live while this conversation was not open. */
  unread: number;
  /** Epoch ms of the newest activity the page knows of: creation, or a message seen or sent. */
  activityAt: number;
}

export interface ConversationListDeps {
  api: ChatApi;
  /** The signed-in user: their own messages are never unread, and they are not listed as "with". */
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

/**
 * The conversations this user is in, as the sidebar shows them: read over REST on every
 * (re)connect, completed by live messages, ordered by newest activity first, with unread counts.
 * The REST list does not say when a conversation was last active, so until a message is seen or
 * sent (e.g. right after a reload) conversations are ordered by creation, newest first.
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
      .listConversations()
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

  /** Adds or updates a conversation; `activityAt` (epoch ms) moves it up if it is newer. */
  upsert(conversation: Conversation, activityAt?: number): void {
    this.entryFor(conversation, activityAt);
  }

  /** A message was sent in `id` at `createdAt`: it moves up. */
  touch(id: string, createdAt: string): void {
    const entry = this.entries.get(id);
    if (entry) entry.activityAt = Math.max(entry.activityAt, timeOf(createdAt, Date.now()));
  }

  /** A live message: moves its conversation up, counts it unread unless `open` or own, and reads a conversation first seen here. */
  see(message: Summary, open: boolean): void {
    const id = message.conversationId;
    const at = timeOf(message.createdAt, Date.now());
    let entry = this.entries.get(id);
    if (!entry) {
      // Known only from this summary until its record is read.
      entry = this.entryFor(
        {
          id,
          title: message.conversationTitle,
          users: [],
          createdAt: message.createdAt,
          createdBy: message.author,
          lastSeq: message.seq,
          lastMessageAt: message.createdAt,
          readSeq: 0,
          unread: 0,
        },
        at,
      );
      this.fetch(id);
    } else {
      if (message.conversationTitle && message.conversationTitle !== entry.conversation.title) {
        entry.conversation = { ...entry.conversation, title: message.conversationTitle };
      }
      entry.activityAt = Math.max(entry.activityAt, at);
    }
    if (!open && message.author !== this.deps.me) entry.unread += 1;
  }

  markRead(id: string): void {
    const entry = this.entries.get(id);
    if (entry) entry.unread = 0;
  }

  /** The user is no longer a member: drop it here and everywhere else. */
  forget(id: string): void {
    this.entries.delete(id);
    this.deps.onForget(id);
  }

  /** The rows of the sidebar, newest activity first. */
  items(): ConversationListItem[] {
    return [...this.entries.values()]
      .sort(
        (a, b) =>
          b.activityAt - a.activityAt ||
          timeOf(b.conversation.createdAt, 0) - timeOf(a.conversation.createdAt, 0) ||
          a.conversation.id.localeCompare(b.conversation.id),
      )
      .map((entry) => ({
        id: entry.conversation.id,
        title: entry.conversation.title,
        others: entry.conversation.users.filter((user) => user !== this.deps.me),
        unread: entry.unread,
      }));
  }

  private entryFor(conversation: Conversation, activityAt?: number): Entry {
    let entry = this.entries.get(conversation.id);
    if (entry) entry.conversation = conversation;
    else {
      entry = { conversation, unread: 0, activityAt: timeOf(conversation.createdAt, Date.now()) };
      this.entries.set(conversation.id, entry);
    }
    if (activityAt !== undefined) entry.activityAt = Math.max(entry.activityAt, activityAt);
    return entry;
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
