import {
  ChatApi,
  ChatApiError,
  ChatConnection,
  ChatConnectionError,
  type Conversation,
  type Message,
  type Summary,
  type UpdateConversationInput,
} from '@chat/client';
import { ConnectionBadge } from './connection-badge.js';
import { openConversationDialog } from './conversation-dialog.js';
import { ConversationListView, type ConversationListItem } from './conversation-list-view.js';
import { describeError, isUnauthenticated } from './describe-error.js';
import { el } from './dom.js';
import { ConversationHistory, readLatestPage, readOlderPage } from './message-history.js';
import { MessageListView } from './message-list-view.js';
import { saveSession, type SavedSession } from './saved-session.js';

/** Messages per REST page, first and older. */
const PAGE_SIZE = 50;
/** setTimeout's largest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ChatScreenOptions {
  session: SavedSession;
  /** The screen has stopped everything; show the sign-in form (with `notice`, if any). */
  onSignOut: (notice?: string) => void;
}

interface Entry {
  conversation: Conversation;
  /** Messages from others that arrived live while this conversation was not open. */
  unread: number;
  /** Epoch ms of the newest activity the page knows of: creation, or a message seen or sent. */
  activityAt: number;
}

interface HistoryLoad {
  history: ConversationHistory;
  done: Promise<void>;
}

function timeOf(iso: string, fallback: number): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? fallback : ms;
}

/**
 * Everything after sign-in: the conversation list, the open conversation and the live
 * connection. One instance per signed-in session; `dispose()` ends it and everything it started.
 *
 * The list is ordered by newest activity first: a conversation moves to the top when a message is
 * seen or sent in it. The REST list does not say when a conversation was last active, so until
 * then (e.g. right after a reload) conversations are ordered by creation, newest first.
 */
export class ChatScreen {
  readonly element: HTMLElement;
  private readonly session: SavedSession;
  private readonly me: string;
  private readonly api: ChatApi;
  private readonly connection: ChatConnection;
  private readonly entries = new Map<string, Entry>();
  private readonly histories = new Map<string, ConversationHistory>();
  private readonly loads = new Map<string, HistoryLoad>();
  /** Conversations first seen in a live message, whose full record is being read. */
  private readonly fetching = new Set<string>();
  private openId: string | undefined;
  private loadingOlder = false;
  private sendChain: Promise<void> = Promise.resolve();
  private listRefresh: Promise<void> | undefined;
  private disposed = false;
  private readonly cleanups: Array<() => void> = [];

  private readonly badge = new ConnectionBadge();
  private readonly list: ConversationListView;
  private readonly listStatus: HTMLElement;
  private readonly messages: MessageListView;
  private readonly emptyPane: HTMLElement;
  private readonly conversationPane: HTMLElement;
  private readonly titleHeading: HTMLElement;
  private readonly membersLine: HTMLElement;
  private readonly composer: HTMLTextAreaElement;
  private readonly sendError: HTMLElement;

  constructor(private readonly options: ChatScreenOptions) {
    this.session = { ...options.session };
    this.me = options.session.username;
    // Same origin as the page: behind the dev edge and behind nginx alike.
    this.api = new ChatApi({ baseUrl: location.origin, token: () => this.session.token });
    this.connection = new ChatConnection({
      url: `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`,
      token: () => this.session.token,
      api: this.api,
    });

    this.list = new ConversationListView((id) => this.open(id));
    this.listStatus = el('p', { class: 'list-status', attrs: { role: 'status', hidden: true } });
    this.messages = new MessageListView({ me: this.me, onNeedOlder: () => this.loadOlder() });
    this.titleHeading = el('h2', { class: 'conversation-heading', attrs: { id: 'conversation-heading' } });
    this.membersLine = el('p', { class: 'conversation-members-line' });
    this.composer = el('textarea', {
      attrs: {
        id: 'composer-text',
        name: 'text',
        rows: 1,
        maxlength: 4000,
        placeholder: 'Write a message',
        'aria-describedby': 'composer-hint',
      },
      on: {
        keydown: (event) => this.onComposerKey(event),
        input: () => this.fitComposer(),
      },
    });
    this.sendError = el('p', { class: 'form-error send-error', attrs: { role: 'alert', hidden: true } });

    const topbar = el(
      'header',
      { class: 'topbar' },
      el('h1', { class: 'brand' }, 'Chat'),
      this.badge.element,
      el('span', { class: 'spacer' }),
      el('span', { class: 'signed-in-as' }, el('span', { class: 'signed-in-label' }, 'Signed in as '), el('strong', { class: 'me' }, this.me)),
      el('button', { class: 'logout', attrs: { type: 'button' }, on: { click: () => this.signOut() } }, 'Log out'),
    );

    const sidebar = el(
      'nav',
      { class: 'sidebar', attrs: { 'aria-label': 'Conversations' } },
      el(
        'div',
        { class: 'sidebar-head' },
        el('h2', {}, 'Conversations'),
        el('button', { class: 'primary new-conversation', attrs: { type: 'button' }, on: { click: () => this.startConversation() } }, 'New'),
      ),
      this.listStatus,
      this.list.element,
    );

    this.emptyPane = el(
      'div',
      { class: 'conversation-empty' },
      el('p', {}, 'Choose a conversation, or start a new one with “New”.'),
    );

    const composerForm = el(
      'form',
      {
        class: 'composer',
        on: {
          submit: (event) => {
            event.preventDefault();
            this.send();
          },
        },
      },
      el('label', { class: 'visually-hidden', attrs: { for: 'composer-text' } }, 'Message'),
      this.composer,
      el('button', { class: 'primary send-button', attrs: { type: 'submit' } }, 'Send'),
    );

    this.conversationPane = el(
      'div',
      { class: 'conversation-pane', attrs: { hidden: true } },
      el(
        'header',
        { class: 'conversation-head' },
        el('button', { class: 'back-button', attrs: { type: 'button', 'aria-label': 'Back to conversations' }, on: { click: () => this.showList() } }, '‹'),
        el('div', { class: 'conversation-head-text' }, this.titleHeading, this.membersLine),
        el('button', { class: 'edit-conversation', attrs: { type: 'button' }, on: { click: () => this.editConversation() } }, 'Edit'),
      ),
      this.messages.element,
      composerForm,
      el('p', { class: 'hint composer-hint', attrs: { id: 'composer-hint' } }, 'Enter sends · Shift+Enter adds a new line'),
      this.sendError,
    );

    this.element = el(
      'div',
      { class: 'chat', attrs: { 'data-view': 'list' } },
      topbar,
      el('div', { class: 'chat-body' }, sidebar, el('main', { class: 'conversation', attrs: { 'aria-labelledby': 'conversation-heading' } }, this.emptyPane, this.conversationPane)),
    );
  }

  /** Loads the list, connects, and reopens the conversation that was open before a reload. */
  async start(): Promise<void> {
    this.listen();
    this.connection.connect();
    await this.refreshConversations();
    const reopen = this.session.openConversationId;
    if (!this.disposed && reopen !== undefined && this.entries.has(reopen) && this.openId === undefined) this.open(reopen);
  }

  /** Stops the connection and every timer and listener. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    void this.connection.close();
    for (const dialog of document.querySelectorAll('dialog')) dialog.close();
  }

  private listen(): void {
    const c = this.connection;
    this.cleanups.push(
      c.on('state', (state) => this.badge.show(state)),
      c.on('message', (message) => this.onLiveMessage(message)),
      // Every (re)connect: conversations may have been created, renamed or left meanwhile.
      c.on('ready', () => void this.refreshConversations()),
      c.on('recoveryFailed', (ids) => this.reloadConversations(ids)),
      c.on('error', (error) => {
        console.warn(`live connection: ${error.name}: ${error.message}`);
        if (error instanceof ChatConnectionError && (error.code === 'unauthenticated' || error.code === 'token_expired')) {
          this.signOut('Your session has ended. Log in again.');
        }
      }),
    );
    const onOnline = () => this.connection.reconnect();
    window.addEventListener('online', onOnline);
    this.cleanups.push(() => window.removeEventListener('online', onOnline));

    // No refresh route in the api: when the token runs out, so does the session.
    const expiresIn = Date.parse(this.session.expiresAt) - Date.now();
    const expiry = setTimeout(() => this.signOut('Your session has expired. Log in again.'), Math.min(Math.max(0, expiresIn), MAX_TIMER_MS));
    this.cleanups.push(() => clearTimeout(expiry));
  }

  private signOut(notice?: string): void {
    if (this.disposed) return;
    this.dispose();
    this.options.onSignOut(notice);
  }

  /** Every REST failure goes through here: an expired token ends the session. */
  private failed(error: unknown): string {
    if (isUnauthenticated(error)) this.signOut('Your session has ended. Log in again.');
    return describeError(error);
  }

  // ---- the conversation list ----

  private refreshConversations(): Promise<void> {
    // Only these can have been left; one first seen while the list is read is not in its answer.
    const known = new Set(this.entries.keys());
    this.listRefresh ??= this.api
      .listConversations()
      .then(
        (conversations) => {
          if (this.disposed) return;
          this.listStatus.hidden = true;
          const present = new Set(conversations.map((conversation) => conversation.id));
          for (const conversation of conversations) this.upsert(conversation);
          for (const id of [...this.entries.keys()]) {
            // A conversation first seen live is kept while its own record is being read.
            if (known.has(id) && !present.has(id) && !this.fetching.has(id)) this.forget(id);
          }
          this.renderList();
        },
        (error: unknown) => {
          if (this.disposed) return;
          this.listStatus.textContent = `Could not load your conversations: ${this.failed(error)}`;
          this.listStatus.hidden = false;
        },
      )
      .finally(() => {
        this.listRefresh = undefined;
      });
    return this.listRefresh;
  }

  private upsert(conversation: Conversation, activityAt?: number): Entry {
    let entry = this.entries.get(conversation.id);
    if (entry) entry.conversation = conversation;
    else {
      entry = { conversation, unread: 0, activityAt: timeOf(conversation.createdAt, Date.now()) };
      this.entries.set(conversation.id, entry);
    }
    if (activityAt !== undefined) entry.activityAt = Math.max(entry.activityAt, activityAt);
    if (conversation.id === this.openId) this.renderHeader();
    return entry;
  }

  /** The user is no longer a member: drop it everywhere. */
  private forget(id: string): void {
    this.entries.delete(id);
    this.histories.delete(id);
    this.loads.delete(id);
    this.connection.untrack(id);
    if (this.openId === id) this.closeConversation();
  }

  private renderList(): void {
    const items: ConversationListItem[] = [...this.entries.values()]
      .sort(
        (a, b) =>
          b.activityAt - a.activityAt ||
          timeOf(b.conversation.createdAt, 0) - timeOf(a.conversation.createdAt, 0) ||
          a.conversation.id.localeCompare(b.conversation.id),
      )
      .map((entry) => ({
        id: entry.conversation.id,
        title: entry.conversation.title,
        others: entry.conversation.users.filter((user) => user !== this.me),
        unread: entry.unread,
      }));
    this.list.render(items, this.openId);
    const unread = items.reduce((sum, item) => sum + item.unread, 0);
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
  }

  /** A conversation first seen in a live message (someone added this user): read its record. */
  private fetchConversation(id: string): void {
    if (this.fetching.has(id)) return;
    this.fetching.add(id);
    this.api
      .getConversation(id)
      .then(
        (conversation) => {
          if (this.disposed) return;
          this.upsert(conversation);
          this.renderList();
        },
        (error: unknown) => {
          if (this.disposed) return;
          if (error instanceof ChatApiError && error.status === 404) this.forget(id);
          else console.warn(`could not read conversation ${id}: ${this.failed(error)}`);
          this.renderList();
        },
      )
      .finally(() => this.fetching.delete(id));
  }

  // ---- live messages ----

  private onLiveMessage(message: Summary): void {
    if (this.disposed) return;
    const id = message.conversationId;
    const at = timeOf(message.createdAt, Date.now());
    let entry = this.entries.get(id);
    if (!entry) {
      // Known only from this summary until its record is read.
      entry = this.upsert({ id, title: message.conversationTitle, users: [], createdAt: message.createdAt, createdBy: message.author }, at);
      this.fetchConversation(id);
    } else {
      if (message.conversationTitle && message.conversationTitle !== entry.conversation.title) {
        this.upsert({ ...entry.conversation, title: message.conversationTitle });
      }
      entry.activityAt = Math.max(entry.activityAt, at);
    }
    this.addMessages(id, [message]);
    if (id !== this.openId && message.author !== this.me) entry.unread += 1;
    this.renderList();
  }

  /** Adds messages to a conversation's history (if the page holds one) and to the view if it is open. */
  private addMessages(id: string, messages: readonly Message[]): void {
    const history = this.histories.get(id);
    if (!history) return;
    const added = messages.filter((message) => history.add(message));
    if (added.length > 0 && id === this.openId && history.loaded) {
      this.messages.setStatus('');
      this.messages.insert(added);
    }
  }

  /** recoveryFailed: the live connection cannot fill these conversations; read them again over REST. */
  private reloadConversations(ids: readonly string[]): void {
    for (const id of ids) {
      this.histories.delete(id);
      this.loads.delete(id);
      if (id === this.openId) {
        this.openId = undefined;
        this.open(id);
      }
    }
  }

  // ---- the open conversation ----

  private historyFor(id: string): ConversationHistory {
    let history = this.histories.get(id);
    if (!history) {
      history = new ConversationHistory();
      this.histories.set(id, history);
    }
    return history;
  }

  /** Reads the newest page (once, however often asked) and tells the connection where to resume from. */
  private loadLatest(id: string): Promise<void> {
    const history = this.historyFor(id);
    const current = this.loads.get(id);
    if (current && current.history === history) return current.done;
    const done = readLatestPage(this.api, id, PAGE_SIZE).then((page) => {
      // Dropped meanwhile (recoveryFailed, left, signed out): this answer is stale.
      if (this.disposed || this.histories.get(id) !== history) return;
      for (const message of page.items) history.add(message);
      history.hasOlder = page.hasOlder;
      history.loaded = true;
      this.connection.track(id, history.newestSeq ?? 0);
    });
    const load: HistoryLoad = { history, done };
    this.loads.set(id, load);
    void done.then(
      () => this.loads.get(id) === load && this.loads.delete(id),
      () => this.loads.get(id) === load && this.loads.delete(id),
    );
    return done;
  }

  private open(id: string): void {
    const entry = this.entries.get(id);
    if (!entry || this.disposed) return;
    this.element.dataset.view = 'conversation';
    if (this.openId === id) {
      this.composer.focus();
      return;
    }
    this.openId = id;
    this.loadingOlder = false;
    this.session.openConversationId = id;
    saveSession(this.session);
    entry.unread = 0;
    this.renderList();
    this.renderHeader();
    this.emptyPane.hidden = true;
    this.conversationPane.hidden = false;
    this.sendError.hidden = true;
    this.messages.reset();

    const history = this.historyFor(id);
    if (history.loaded) this.showHistory(history);
    else {
      this.messages.setStatus('Loading messages…');
      this.loadLatest(id).then(
        () => {
          if (this.openId === id && this.histories.get(id) === history) this.showHistory(history);
        },
        (error: unknown) => {
          if (this.openId === id) this.messages.setStatus(`Could not load the messages: ${this.failed(error)}`);
        },
      );
    }
    this.composer.focus();
  }

  private showHistory(history: ConversationHistory): void {
    this.messages.setStatus(history.size === 0 ? 'No messages yet. Say hello!' : '');
    this.messages.setOlder(history.hasOlder, false);
    this.messages.insert(history.messages());
    this.messages.scrollToBottom();
  }

  private closeConversation(): void {
    this.openId = undefined;
    delete this.session.openConversationId;
    saveSession(this.session);
    this.messages.reset();
    this.conversationPane.hidden = true;
    this.emptyPane.hidden = false;
    this.showList();
  }

  private showList(): void {
    this.element.dataset.view = 'list';
    const active = this.list.element.querySelector<HTMLElement>('[aria-current="true"]');
    (active ?? this.list.element.querySelector<HTMLElement>('button'))?.focus();
  }

  private renderHeader(): void {
    const entry = this.openId === undefined ? undefined : this.entries.get(this.openId);
    if (!entry) return;
    const { title, users } = entry.conversation;
    this.titleHeading.textContent = title;
    this.membersLine.textContent = users.length > 0 ? `${users.length} ${users.length === 1 ? 'member' : 'members'}: ${users.join(', ')}` : '';
  }

  private loadOlder(): void {
    const id = this.openId;
    if (id === undefined || this.loadingOlder) return;
    const history = this.histories.get(id);
    const before = history?.oldestSeq;
    if (!history?.loaded || !history.hasOlder || before === undefined) return;
    this.loadingOlder = true;
    this.messages.setOlder(true, true);
    readOlderPage(this.api, id, before, PAGE_SIZE).then(
      (page) => {
        if (this.histories.get(id) !== history) return;
        for (const message of page.items) history.add(message);
        history.hasOlder = page.hasOlder;
        if (this.openId !== id) return;
        this.loadingOlder = false;
        this.messages.setOlder(page.hasOlder, false);
        this.messages.insert(page.items);
      },
      (error: unknown) => {
        if (this.openId !== id) return;
        this.loadingOlder = false;
        this.messages.setOlder(true, false);
        this.messages.setStatus(`Could not load earlier messages: ${this.failed(error)}`);
      },
    );
  }

  // ---- sending ----

  private onComposerKey(event: KeyboardEvent): void {
    // isComposing: Enter that confirms an input-method composition is not a send.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.send();
    }
  }

  /** The text area grows with its text, up to the height CSS allows. */
  private fitComposer(): void {
    this.composer.style.height = 'auto';
    this.composer.style.height = `${this.composer.scrollHeight}px`;
  }

  /** Sends in the order typed: each message waits for the one before it to be accepted. */
  private send(): void {
    const id = this.openId;
    const text = this.composer.value;
    if (id === undefined || text.trim() === '') return;
    this.composer.value = '';
    this.fitComposer();
    this.sendError.hidden = true;
    this.sendChain = this.sendChain.then(async () => {
      if (this.disposed) return;
      try {
        const message = await this.api.postMessage(id, text);
        if (this.disposed) return;
        const entry = this.entries.get(id);
        if (entry) entry.activityAt = Math.max(entry.activityAt, timeOf(message.createdAt, Date.now()));
        this.addMessages(id, [message]);
        if (id === this.openId) this.messages.scrollToBottom();
        this.renderList();
      } catch (error) {
        if (this.disposed) return;
        const reason = this.failed(error);
        if (id !== this.openId) return;
        this.sendError.textContent = `Not sent: ${reason}`;
        this.sendError.hidden = false;
        // Give the text back to edit and resend, unless something new was typed meanwhile.
        if (this.composer.value === '') {
          this.composer.value = text;
          this.fitComposer();
        }
      }
    });
  }

  // ---- creating and changing conversations ----

  private startConversation(): void {
    openConversationDialog({
      heading: 'New conversation',
      submitLabel: 'Start',
      title: '',
      peopleLabel: 'People',
      peopleHint: 'Their usernames, separated by commas.',
      peopleRequired: true,
      onSubmit: async ({ title, people }) => {
        const conversation = await this.api.createConversation({ title, users: people.filter((user) => user !== this.me) });
        if (this.disposed) return;
        this.upsert(conversation, Date.now());
        // New and empty: nothing to read; the live connection delivers from seq 1 on.
        const history = this.historyFor(conversation.id);
        history.loaded = true;
        this.connection.track(conversation.id, 0);
        this.open(conversation.id);
      },
    });
  }

  private editConversation(): void {
    const id = this.openId;
    const entry = id === undefined ? undefined : this.entries.get(id);
    if (id === undefined || !entry) return;
    openConversationDialog({
      heading: 'Edit conversation',
      submitLabel: 'Save',
      title: entry.conversation.title,
      peopleLabel: 'Add people',
      peopleHint: 'Usernames to add, separated by commas.',
      members: entry.conversation.users,
      peopleRequired: false,
      onSubmit: async ({ title, people }) => {
        // Members as they are now, not as this page last saw them: adding must not drop anyone.
        const current = await this.api.getConversation(id);
        const changes: UpdateConversationInput = {};
        if (title !== current.title) changes.title = title;
        const added = people.filter((user) => !current.users.includes(user));
        if (added.length > 0) changes.users = [...current.users, ...added];
        const updated = changes.title === undefined && changes.users === undefined ? current : await this.api.updateConversation(id, changes);
        if (this.disposed) return;
        this.upsert(updated);
        this.renderList();
      },
    });
  }
}
