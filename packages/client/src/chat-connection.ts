import { CloseCode } from './close-codes.js';
import type { ChatConnectionEvents, ConnectionState } from './connection-events.js';
import { resolveConnectionSettings, type ChatConnectionOptions, type ConnectionSettings } from './connection-options.js';
import { ConversationOrder } from './conversation-order.js';
import { ConversationRevs } from './conversation-revs.js';
import { ChatConnectionError } from './errors.js';
import { parseServerFrame } from './frame-parser.js';
import { PresenceBook } from './presence-book.js';
import { openSocket } from './open-socket.js';
import { ReconnectPolicy } from './reconnect-policy.js';
import { SocketSession } from './socket-session.js';
import { resolveToken, tokenExpiresAtMs, type TokenSource } from './token-source.js';
import { TypedEmitter } from './typed-emitter.js';
import type { ConversationFrame } from './types.js';
import { TypingThrottle } from './typing-throttle.js';
import { TYPING_THROTTLE_MS } from './types.js';
import { listenToSocket, type WebSocketLike } from './websocket-like.js';

export type { ChatConnectionEvents, ConnectionState, ConversationEvent, DisconnectInfo, ReadyInfo, ResumedInfo } from './connection-events.js';
export type { ChatConnectionOptions, MessageRangeReader } from './connection-options.js';

/** How long `close()` waits for the socket to report its close. */
const CLOSE_WAIT_MS = 2000;

/**
 * The live connection to the gateway: connects, resumes from its cursors, delivers messages in
 * order and once each, refreshes the token, detects dead connections and reconnects with backoff
 * (to the next replica when given several) until `close()`.
 */
export class ChatConnection extends TypedEmitter<ChatConnectionEvents> {
  private readonly settings: ConnectionSettings;
  private tokenSource: TokenSource;
  private readonly order: ConversationOrder;
  private readonly revs = new ConversationRevs();
  private readonly policy: ReconnectPolicy;
  private currentState: ConnectionState = 'disconnected';
  private running = false;
  private session: SocketSession | undefined;
  /** Bumped by close() and every new attempt, so an attempt still awaiting its token gives up. */
  private attemptId = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private lastEpoch: string | undefined;
  private lastUser: string | undefined;
  private readonly typingThrottle = new TypingThrottle(TYPING_THROTTLE_MS);
  private readonly presenceBook = new PresenceBook();

  constructor(options: ChatConnectionOptions) {
    super();
    this.settings = resolveConnectionSettings(options);
    this.tokenSource = options.token;
    this.policy = new ReconnectPolicy(this.settings.urls, this.settings);
    this.lastEpoch = options.epoch;
    const api = options.api;
    this.order = new ConversationOrder({
      deliver: (message) => this.emit('message', message),
      readRange: api ? (id, after, until) => api.listAllMessages(id, { after, until }) : undefined,
      onGapUnreadable: () => this.restartSession('a gap stayed open; resuming to fill it'),
      onHole: (id) => this.emit('recoveryFailed', [id]),
      onReadFailed: (id, error) =>
        this.emit('error', new ChatConnectionError('gap_read_failed', `could not read missing messages of ${id}; retrying`, { cause: error })),
      isResuming: (id) => this.session?.resume.isResuming(id) ?? false,
      gapTimeoutMs: this.settings.gapTimeoutMs,
    });
    for (const [id, seq] of Object.entries(options.cursors ?? {})) this.track(id, seq, options.revs?.[id]);
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The store epoch of the last `ready` (or the one restored); save it with `cursors()`. */
  get epoch(): string | undefined {
    return this.lastEpoch;
  }

  /** The username of the last `ready`. */
  get user(): string | undefined {
    return this.lastUser;
  }

  /** The URL of the current socket, if any. */
  get url(): string | undefined {
    return this.session?.url;
  }

  /** Starts connecting (and reconnecting until `close()`). Calling it while running does nothing. */
  connect(): void {
    if (this.running) return;
    this.running = true;
    this.policy.reset();
    this.setState('connecting');
    void this.openSession();
  }

  /** Stops: closes the socket, cancels every timer and reconnect. `connect()` starts again, keeping the cursors. */
  close(): Promise<void> {
    const session = this.halt('client closed');
    this.setState('disconnected');
    if (!session) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([session.closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]).finally(() =>
      clearTimeout(timer),
    );
  }

  /** Drops the current socket and connects again now (e.g. on the browser's `online` event). */
  reconnect(): void {
    if (!this.running) {
      this.connect();
      return;
    }
    this.policy.reset();
    if (this.session) {
      this.restartSession('reconnect requested');
      return;
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    void this.openSession();
  }

  /** Replaces the token source; used from the next connection attempt or refresh on. */
  setToken(token: TokenSource): void {
    this.tokenSource = token;
  }

  /**
   * Seeds the cursor of a conversation the app loaded over REST: messages up to `lastSeq` are not
   * delivered again, and the next resume asks for what came after. Cursors never move back.
   * `rev` (1.1): the highest `rev` among the messages loaded; the next resume then also replays
   * the edits and deletions made after it (`messageUpdated`).
   */
  track(conversationId: string, lastSeq: number, rev?: number): void {
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) throw new RangeError(`track: lastSeq must be a non-negative integer, got ${lastSeq}`);
    if (rev !== undefined && (!Number.isSafeInteger(rev) || rev < 0)) throw new RangeError(`track: rev must be a non-negative integer, got ${rev}`);
    this.order.track(conversationId, lastSeq);
    if (rev !== undefined) this.revs.track(conversationId, rev);
  }

  /** Forgets a conversation (e.g. the user left it): no more cursor, nothing resumed for it. */
  untrack(conversationId: string): void {
    this.order.untrack(conversationId);
    this.revs.forget(conversationId);
  }

  /** The highest rev (1.1) seen in a conversation's frames (or tracked). */
  rev(conversationId: string): number | undefined {
    return this.revs.rev(conversationId);
  }

  /** Every rev, to save with `cursors()` and restore through the options. */
  revsSeen(): Record<string, number> {
    return this.revs.all();
  }

  /**
   * Tells the conversation's other members that this user is typing. Throttled here as the gateway
   * throttles it (once per 2 s per conversation), so call it on every keystroke. False when nothing
   * was sent: throttled, or no socket is ready.
   */
  typing(conversationId: string): boolean {
    const session = this.session;
    if (!session || session.readyAtMs === undefined) return false;
    if (!this.typingThrottle.take(conversationId)) return false;
    session.send({ type: 'typing', conversationId });
    return true;
  }

  /** The last seq delivered (or tracked) in a conversation. */
  cursor(conversationId: string): number | undefined {
    return this.order.cursor(conversationId);
  }

  /** Every cursor, to save with `epoch` and restore through the options. */
  cursors(): Record<string, number> {
    return this.order.cursors();
  }

  private setState(next: ConnectionState): void {
    const previous = this.currentState;
    if (previous === next) return;
    this.currentState = next;
    this.emit('state', next, previous);
  }

  private async openSession(): Promise<void> {
    const attempt = ++this.attemptId;
    let token: string;
    try {
      token = await resolveToken(this.tokenSource);
    } catch (error) {
      if (attempt !== this.attemptId || !this.running) return;
      this.emit('error', new ChatConnectionError('token_unavailable', 'the token function failed', { cause: error }));
      this.scheduleReconnect(undefined, CloseCode.Abnormal, 'no token', false);
      return;
    }
    if (attempt !== this.attemptId || !this.running) return;
    const expiresAtMs = tokenExpiresAtMs(token);
    if (expiresAtMs !== undefined && expiresAtMs <= Date.now() && typeof this.tokenSource === 'string') {
      this.fail(new ChatConnectionError('token_expired', 'the token has expired; pass a token function so the SDK can get fresh ones'));
      return;
    }

    const url = this.policy.url;
    let socket: WebSocketLike;
    try {
      socket = openSocket(this.settings.WebSocket, url, token, this.settings.tokenIn);
    } catch (error) {
      this.emit('error', new ChatConnectionError('connect_failed', `could not open a WebSocket to ${url}`, { cause: error }));
      this.scheduleReconnect(undefined, CloseCode.Abnormal, 'could not open a WebSocket', false);
      return;
    }

    const session: SocketSession = new SocketSession(socket, url, expiresAtMs, this.settings, {
      tokenSource: () => this.tokenSource,
      isCurrent: () => this.isCurrent(session),
      giveUp: (code, reason) => this.giveUp(session, code, reason),
      onError: (error) => this.emit('error', error),
    });
    this.session = session;
    listenToSocket(socket, {
      open: () => this.onOpen(session),
      message: (data) => this.onFrame(session, data),
      close: (code, reason) => {
        session.markClosed();
        this.onSocketClosed(session, code, session.closeReason(reason));
      },
      error: (message) => session.noteError(message),
    });
  }

  private isCurrent(session: SocketSession): boolean {
    return this.session === session;
  }

  private onOpen(session: SocketSession): void {
    if (!this.isCurrent(session)) return;
    // First frame on the socket: the gateway then holds live messages of these conversations
    // until it has replayed what the cursors missed, so nothing overtakes the replay.
    for (const frame of session.resume.frames(this.order.cursors(), this.lastEpoch, this.revs.all())) session.send(frame);
  }

  private onFrame(session: SocketSession, data: unknown): void {
    if (!this.isCurrent(session)) return;
    session.heartbeat.alive();
    const frame = parseServerFrame(data);
    if (frame instanceof ChatConnectionError) this.emit('error', frame);
    else if (frame?.type === 'ready') this.onReady(session, frame.user, frame.epoch, frame.protocol);
    else if (frame?.type === 'message') {
      this.revs.saw(frame.data);
      this.order.offer(frame.data);
    } else if (frame?.type === 'message_updated') {
      this.revs.saw(frame.data);
      if (this.order.update(frame.data)) this.emit('messageUpdated', frame.data);
    } else if (frame?.type === 'resumed') this.onResumed(session, frame.recovered, frame.conversations);
    else if (frame?.type === 'read') this.emit('read', frame.conversationId, frame.seq);
    else if (frame?.type === 'conversation') this.onConversation(frame);
    else if (frame?.type === 'typing') this.emit('typing', { conversationId: frame.conversationId, user: frame.user });
    else if (frame?.type === 'presence' && this.presenceBook.accept(frame)) {
      this.emit('presence', { user: frame.user, online: frame.online, lastSeen: frame.lastSeen });
    }
  }

  private onConversation(frame: ConversationFrame): void {
    if (frame.event === 'removed') {
      // Nothing of it follows: no cursor to keep or resume.
      this.order.untrack(frame.data.id);
      this.emit('conversation', { event: 'removed', conversationId: frame.data.id });
      return;
    }
    this.emit('conversation', { event: frame.event, conversation: frame.data });
  }

  private onReady(session: SocketSession, user: string, epoch: string, protocol: string | undefined): void {
    session.markReady();
    if (this.lastEpoch !== undefined && epoch !== this.lastEpoch) {
      // The store lost its history: old cursors would drop new messages as duplicates. The
      // gateway reports the resumed conversations as not recovered.
      this.order.reset();
      this.revs.reset();
      session.epochChanged = true;
    }
    this.lastEpoch = epoch;
    this.lastUser = user;
    this.setState('connected');
    this.emit('ready', { user, epoch, url: session.url, protocol });
    // A 'ready' listener may have closed or replaced the connection: nothing more to start then,
    // or the heartbeat's interval would outlive the socket (and keep a Node process alive).
    if (!this.isCurrent(session)) return;
    session.tokenRefresher.start();
    session.heartbeat.start();
  }

  private onResumed(session: SocketSession, recovered: boolean, conversations: string[]): void {
    const lost = session.resume.answer(recovered, conversations);
    if (lost.length > 0) {
      this.emit('recoveryFailed', lost);
      // What was replayed after the hole is waiting for seqs that no longer exist: deliver it.
      // (After an epoch change the cursors are already gone and new ones are valid.)
      if (!session.epochChanged) for (const id of lost) this.order.skipGap(id);
    }
    const outcome = session.resume.outcome();
    if (outcome && this.isCurrent(session)) this.emit('resumed', outcome);
  }

  /** Gives up on a socket that may never report its close (half-open, stuck handshake). */
  private giveUp(session: SocketSession, code: number, reason: string): void {
    if (!this.isCurrent(session)) return;
    this.endSession(session, code, reason);
    this.afterSessionEnded(session, code, reason);
  }

  /** Replaces the current socket by a new one, as soon as possible. */
  private restartSession(reason: string): void {
    const session = this.session;
    if (!session || !this.running) return;
    this.endSession(session, CloseCode.Normal, reason);
    this.session = undefined;
    this.order.clearPending();
    this.emit('disconnect', { code: CloseCode.Normal, reason, url: session.url, willReconnect: true, delayMs: 0 });
    this.setState('reconnecting');
    this.openSessionAfter(0);
  }

  private onSocketClosed(session: SocketSession, code: number, reason: string): void {
    if (!this.isCurrent(session)) return;
    this.endSession(session, undefined, reason);
    this.afterSessionEnded(session, code, reason);
  }

  /** Stops the session's timers and queue, and closes its socket (unless `closeCode` is undefined: already closed). */
  private endSession(session: SocketSession, closeCode: number | undefined, reason: string): void {
    session.stop();
    if (closeCode === undefined) return;
    try {
      session.close(closeCode, reason);
    } catch (error) {
      this.emit('error', new ChatConnectionError('close_failed', 'closing the socket failed', { cause: error }));
    }
  }

  private afterSessionEnded(session: SocketSession, code: number, reason: string): void {
    this.session = undefined;
    this.order.clearPending();
    if (!this.running) return;
    const next = this.policy.afterEnded({
      code,
      upgradeStatus: session.upgradeStatus,
      readyAtMs: session.readyAtMs,
      staticToken: typeof this.tokenSource === 'string',
    });
    if (next.action === 'stop') this.fail(next.error, { code, reason, url: session.url });
    else this.scheduleReconnect(session, code, reason, next.immediately);
  }

  private scheduleReconnect(session: SocketSession | undefined, code: number, reason: string, immediately: boolean): void {
    if (!this.running) return;
    const delayMs = this.policy.delayMs(immediately);
    this.emit('disconnect', { code, reason, url: session?.url ?? this.policy.url, willReconnect: true, delayMs });
    if (!this.running) return;
    this.setState('reconnecting');
    this.openSessionAfter(delayMs);
  }

  private openSessionAfter(delayMs: number): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.openSession();
    }, delayMs);
  }

  /** No more attempts: cancels a pending reconnect, drops held messages, closes the socket (returned). */
  private halt(reason: string): SocketSession | undefined {
    this.running = false;
    this.attemptId += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const session = this.session;
    this.session = undefined;
    this.order.clearPending();
    if (session) this.endSession(session, CloseCode.Normal, reason);
    return session;
  }

  /** Stops for good (until `connect()`): a problem that retrying cannot fix. */
  private fail(error: ChatConnectionError, closed?: { code: number; reason: string; url: string }): void {
    this.halt(error.code);
    this.emit('error', error);
    if (closed) this.emit('disconnect', { ...closed, willReconnect: false });
    this.setState('disconnected');
  }
}
