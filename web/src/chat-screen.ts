import {
  ChatApi,
  ChatConnection,
  ChatConnectionError,
  type ConnectionState,
  type ConversationEvent,
  type Message,
  type Summary,
} from '@chat/client';
import { render } from 'lit-html';
import { createRef } from 'lit-html/directives/ref.js';
import { chatScreenView } from './chat-screen-view.js';
import { Composer } from './composer.js';
import { connectionBadge } from './connection-badge.js';
import { ConversationListState } from './conversation-list-state.js';
import { conversationListView } from './conversation-list-view.js';
import { conversationPaneView } from './conversation-pane-view.js';
import { describeError, isUnauthenticated } from './describe-error.js';
import { editConversation } from './edit-conversation.js';
import { HistoryLoader } from './history-loader.js';
import { leaveConversation } from './leave-conversation.js';
import { LivePresence } from './live-presence.js';
import { deleteMessage, editMessage } from './message-actions.js';
import { membersView } from './members-view.js';
import { MessageLogScroll } from './message-log-scroll.js';
import { messageListView } from './message-list-view.js';
import { OpenConversation } from './open-conversation.js';
import { OutgoingMessages } from './outgoing-messages.js';
import { ReadOnScreen } from './read-on-screen.js';
import { saveSession, type SavedSession } from './saved-session.js';
import { startConversation } from './start-conversation.js';

/** setTimeout's largest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ChatScreenOptions {
  /** Where the screen renders (it replaces what is there). */
  host: HTMLElement;
  session: SavedSession;
  /** The screen has stopped everything; show the sign-in form (with `notice`, if any). */
  onSignOut: (notice?: string) => void;
}

/**
 * Everything after sign-in: the conversation list, the open conversation and the live connection.
 * One instance per signed-in session; `dispose()` ends it and everything it started.
 *
 * State lives in the list (conversation-list-state.ts), the histories (history-loader.ts), the
 * open conversation (open-conversation.ts), presence (live-presence.ts), the messages being sent
 * (outgoing-messages.ts) and two fields below; every change ends in `render()`, which draws the
 * whole screen from them (lit only touches what changed). Read cursors are sent by read-on-screen.ts.
 */
export class ChatScreen {
  private readonly session: SavedSession;
  private readonly me: string;
  private readonly api: ChatApi;
  private readonly connection: ChatConnection;
  private readonly lifetime = new AbortController();
  private readonly cleanups: Array<() => void> = [];
  private readonly list: ConversationListState;
  private readonly histories: HistoryLoader;
  private readonly current: OpenConversation;
  private readonly outgoing: OutgoingMessages;
  private readonly reads: ReadOnScreen;
  private readonly presence: LivePresence;

  private readonly listRef = createRef<HTMLUListElement>();
  private readonly scroll = new MessageLogScroll(() => this.current.loadOlder());
  private readonly composer = new Composer(
    () => this.outgoing.sendTyped(),
    () => this.typed(),
  );

  private connectionState: ConnectionState = 'disconnected';
  /** Which pane a narrow window shows. */
  private view: 'list' | 'conversation' = 'list';

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
    const signal = this.lifetime.signal;
    this.list = new ConversationListState({
      api: this.api,
      me: this.me,
      signal,
      onForget: (id) => this.forget(id),
      onChange: () => this.render(),
      failed: (error) => this.failed(error),
    });
    this.presence = new LivePresence({ api: this.api, connection: this.connection, me: this.me, signal, onChange: () => this.render() });
    this.histories = new HistoryLoader({ pager: this.api, signal, track: (id, seq, rev) => this.connection.track(id, seq, rev) });
    this.current = new OpenConversation({
      histories: this.histories,
      scroll: this.scroll,
      failed: (error) => this.failed(error),
      onChange: () => this.render(),
    });
    this.reads = new ReadOnScreen({ api: this.api, list: this.list, signal, openId: () => this.current.id, failed: (error) => this.failed(error) });
    this.outgoing = new OutgoingMessages({
      api: this.api,
      current: this.current,
      composer: this.composer,
      scroll: this.scroll,
      signal,
      stored: (id, message) => {
        this.list.see(message);
        this.addMessages(id, [message]);
      },
      failed: (error) => this.failed(error),
      onChange: () => this.render(),
    });
    this.cleanups.push(this.outgoing.listen());
    this.render();
  }

  /** Loads the list, connects, and reopens the conversation that was open before a reload. */
  async start(): Promise<void> {
    this.listen();
    this.connection.connect();
    await this.list.refresh();
    const reopen = this.session.openConversationId;
    if (!this.disposed && reopen !== undefined && this.list.get(reopen) && this.current.id === undefined) this.open(reopen);
  }

  /** Stops the connection and every timer and listener. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.lifetime.abort();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    void this.connection.close();
    for (const dialog of document.querySelectorAll('dialog')) dialog.close();
  }

  private get disposed(): boolean {
    return this.lifetime.signal.aborted;
  }

  private listen(): void {
    const c = this.connection;
    this.cleanups.push(
      c.on('state', (state) => {
        this.connectionState = state;
        this.render();
      }),
      c.on('message', (message) => this.onLiveMessage(message)),
      c.on('read', (id, seq) => {
        this.list.read(id, seq);
        this.render();
      }),
      c.on('conversation', (change) => this.onConversationChange(change)),
      c.on('messageUpdated', (message) => this.onMessageChanged(message)),
      // Every (re)connect: conversations may have been created, renamed or left meanwhile, and
      // what waits in the outbox can go now.
      c.on('ready', () => {
        void this.list.refresh();
        this.outgoing.flush();
      }),
      // Its own 'ready' listener, after the one above: presence is asked again after a reconnect.
      this.presence.listen(),
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
    this.cleanups.push(() => window.removeEventListener('online', onOnline), this.reads.listen());

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

  // ---- what arrives ----

  private onLiveMessage(message: Summary): void {
    if (this.disposed) return;
    // One of ours still pending: the stored copy replaces it (no second bubble).
    this.outgoing.delivered(message);
    this.presence.messageArrived(message.conversationId, message.author);
    this.list.see(message);
    this.addMessages(message.conversationId, [message]);
    // Held already (read over REST) in an older version: a message can come in a later one.
    this.histories.update(message.conversationId, message);
    if (message.conversationId === this.current.id) this.reads.mark(message.conversationId);
    this.render();
  }

  /** `conversation` frames: the list follows them live (someone added, renamed or removed this user). */
  private onConversationChange(change: ConversationEvent): void {
    if (this.disposed) return;
    if (change.event === 'removed') this.list.forget(change.conversationId);
    else this.list.upsert(change.conversation);
    this.render();
  }

  /** An edit or deletion, live or made here: the held copy is replaced where the page holds one. */
  private onMessageChanged(message: Message): void {
    if (this.disposed) return;
    if (this.histories.update(message.conversationId, message)) this.render();
  }

  /** Adds messages to a conversation's history (if the page holds one); the open one's log shows them. */
  private addMessages(id: string, messages: readonly Message[]): void {
    if (this.histories.add(id, messages).length > 0) this.current.added(id);
  }

  /** The user is no longer a member: drop it everywhere. */
  private forget(id: string): void {
    this.histories.drop(id);
    this.connection.untrack(id);
    if (this.current.id === id) this.closeConversation();
  }

  /** recoveryFailed: the live connection cannot fill these conversations; read them again over REST. */
  private reloadConversations(ids: readonly string[]): void {
    for (const id of ids) {
      this.histories.drop(id);
      if (id === this.current.id) {
        this.current.close();
        this.open(id);
      }
    }
  }

  // ---- the open conversation ----

  private open(id: string): void {
    if (!this.list.get(id) || this.disposed) return;
    this.view = 'conversation';
    if (this.current.id !== id) {
      this.current.show(id);
      this.session.openConversationId = id;
      saveSession(this.session);
      this.presence.membersShown(this.list.get(id)?.users ?? []);
    }
    this.reads.mark(id);
    this.render();
    this.composer.focus();
  }

  private closeConversation(): void {
    this.current.close();
    delete this.session.openConversationId;
    saveSession(this.session);
    this.showList();
  }

  private showList(): void {
    this.view = 'list';
    this.render();
    const list = this.listRef.value;
    (list?.querySelector<HTMLElement>('[aria-current="true"]') ?? list?.querySelector<HTMLElement>('button'))?.focus();
  }

  // ---- typing, creating and changing conversations ----

  /** Text was typed in the open conversation. */
  private typed(): void {
    if (this.current.id !== undefined) this.presence.typed(this.current.id);
  }

  private startConversation(): void {
    startConversation(this.api, this.me, (conversation) => {
      if (this.disposed) return;
      this.list.upsert(conversation);
      // New and empty: nothing to read; the live connection delivers from seq 1 on.
      this.histories.startEmpty(conversation.id);
      this.open(conversation.id);
    });
  }

  private editConversation(): void {
    const conversation = this.current.id === undefined ? undefined : this.list.get(this.current.id);
    if (!conversation) return;
    editConversation(this.api, conversation, (updated) => {
      if (this.disposed) return;
      this.list.upsert(updated);
      this.render();
    });
  }

  private leaveConversation(): void {
    const conversation = this.current.id === undefined ? undefined : this.list.get(this.current.id);
    if (!conversation) return;
    leaveConversation(
      {
        api: this.api,
        onLeft: (id) => {
          if (this.disposed) return;
          // Out of the list, and everything held for it dropped (forget): the list shows again.
          this.list.forget(id);
          this.render();
        },
        onFailed: (id, error) => {
          const reason = this.failed(error);
          if (this.disposed || id !== this.current.id) return;
          this.current.status = `Could not leave: ${reason}`;
          this.render();
        },
      },
      conversation,
    );
  }

  // ---- drawing ----

  private render(): void {
    if (this.disposed) return;
    const { current } = this;
    const open = current.id === undefined ? undefined : this.list.get(current.id);
    const log = current.log();
    const items = this.list.items();
    const focused = document.activeElement;
    this.scroll.before();

    render(
      chatScreenView({
        view: this.view,
        me: this.me,
        badge: connectionBadge(this.connectionState),
        listError: this.list.error,
        list: conversationListView({ items, activeId: current.id, loaded: this.list.loaded, onSelect: (id) => this.open(id), listRef: this.listRef }),
        empty: open === undefined,
        pane: conversationPaneView({
          conversation: open,
          members: membersView(open?.users ?? [], this.me, (user) => this.presence.isOnline(user)),
          typingLine: open === undefined ? '' : this.presence.typingLine(open.id),
          messages: messageListView({
            messages: log.messages,
            pending: this.outgoing.pending(current.id),
            me: this.me,
            hasOlder: log.hasOlder,
            loadingOlder: current.loadingOlder,
            status: current.status,
            scroll: this.scroll,
            onEdit: (message) => editMessage(this.api, message, (changed) => this.onMessageChanged(changed)),
            onDelete: (message) =>
              deleteMessage(
                this.api,
                message,
                (changed) => this.onMessageChanged(changed),
                (error) => {
                  this.current.status = `Could not delete: ${this.failed(error)}`;
                  this.render();
                },
              ),
          }),
          composer: this.composer.view(),
          sendError: current.sendError,
          onBack: () => this.showList(),
          onEdit: () => this.editConversation(),
          onLeave: () => this.leaveConversation(),
        }),
        onSignOut: () => this.signOut(),
        onNewConversation: () => this.startConversation(),
      }),
      this.options.host,
    );

    // Moving a focused row drops its focus in some browsers: give it back.
    if (focused instanceof HTMLElement && focused !== document.activeElement && this.listRef.value?.contains(focused)) focused.focus();
    const unread = items.reduce((sum, item) => sum + item.unread, 0);
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
    this.scroll.after(log.shown);
  }
}
