import { backoffDelayMs } from './backoff.js';
import { CloseCode } from './close-codes.js';
import { ConversationOrder } from './conversation-order.js';
import { ChatConnectionError, type ChatClientError } from './errors.js';
import { FramePacer } from './frame-pacer.js';
import { resolveToken, tokenExpiresAtMs, type TokenSource } from './token-source.js';
import { TypedEmitter } from './typed-emitter.js';
import { RESUME_CURSORS_MAX, type ClientFrame, type Message, type ResumeFrame, type Summary } from './types.js';
import { listenToSocket, SOCKET_OPEN, type WebSocketConstructor, type WebSocketLike } from './websocket-like.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ReadyInfo {
  /** The username the gateway authenticated. */
  user: string;
  /** The store epoch; cursors are only meaningful within one. */
  epoch: string;
  /** The gateway URL this socket is connected to. */
  url: string;
}

export interface ResumedInfo {
  /** False when some conversations could not be replayed (see `conversations` and `recoveryFailed`). */
  recovered: boolean;
  conversations: string[];
}

export interface DisconnectInfo {
  /** The WebSocket close code (1006 when the connection dropped or never opened). */
  code: number;
  reason: string;
  url: string;
  willReconnect: boolean;
  /** When willReconnect: how long until the next attempt. */
  delayMs?: number;
}

export type ChatConnectionEvents = {
  /** A message, in seq order per conversation, once per (conversationId, seq). */
  message: [message: Summary];
  state: [state: ConnectionState, previous: ConnectionState];
  /** A socket was accepted and registered (after every connect and reconnect). */
  ready: [info: ReadyInfo];
  /** The gateway has replayed everything the cursors missed. */
  resumed: [info: ResumedInfo];
  /** These conversations have messages the SDK could not deliver: reload them over REST, then `track` them. */
  recoveryFailed: [conversationIds: string[]];
  /** A socket closed (or was given up); `willReconnect` says what happens next. */
  disconnect: [info: DisconnectInfo];
  /** Something went wrong that the app may want to know about; the connection carries on unless `state` says otherwise. */
  error: [error: ChatClientError];
};

/** Reads a range of messages over REST; a ChatApi is one. */
export interface MessageRangeReader {
  listAllMessages(conversationId: string, options: { after: number; until: number }): Promise<Message[]>;
}

export interface ChatConnectionOptions {
  /** The gateway's `/ws` URL, or several (replicas): a reconnect tries the next one. */
  url: string | readonly string[];
  /** The token; a function is called for every connection attempt and to refresh before `exp`. */
  token: TokenSource;
  /** The WebSocket constructor: default `globalThis.WebSocket`; in Node 20 pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Reads a gap over REST (pass your ChatApi). Without it, a gap that stays open triggers a reconnect, whose resume fills it. */
  api?: MessageRangeReader;
  /** `query` (default; works everywhere) or `header` (Authorization: Bearer; `ws` in Node only). */
  tokenIn?: 'query' | 'header';
  /** First reconnect's ceiling, in ms (default 500). */
  minReconnectDelayMs?: number;
  /** No reconnect waits longer (default 30 000 ms). */
  maxReconnectDelayMs?: number;
  /** A connection that stayed ready this long resets the backoff (default 10 000 ms). */
  stableConnectionMs?: number;
  /** A socket not ready after this long is given up (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** How long a message waits for the seqs before it before they are read over REST (default 2000 ms). */
  gapTimeoutMs?: number;
  /** A `ping` frame every this many ms (default 25 000; 0 turns the heartbeat off). */
  heartbeatIntervalMs?: number;
  /** No frame within this long after a ping: the connection is dead, reconnect (default 10 000 ms). */
  heartbeatTimeoutMs?: number;
  /** Refresh the token this long before its `exp`, at most half its remaining life (default 30 000 ms). */
  tokenRefreshMarginMs?: number;
  /** Restores state saved from `epoch` and `cursors()` (e.g. across a page reload). */
  epoch?: string;
  cursors?: Record<string, number>;
}

/** One socket and everything that lives and dies with it. */
interface Session {
  readonly id: number;
  readonly socket: WebSocketLike;
  readonly url: string;
  readonly pacer: FramePacer;
  readonly closed: Promise<void>;
  markClosed(): void;
  token: string;
  expiresAtMs: number | undefined;
  readyAtMs: number | undefined;
  /** Conversation ids of each resume frame still unanswered, oldest first. */
  resumeBatches: string[][];
  resuming: Set<string>;
  lostInResume: string[];
  /** The store epoch changed at `ready`: every cursor was dropped, nothing is replayed. */
  epochChanged: boolean;
  /** From a ws error such as "Unexpected server response: 401". */
  errorMessage: string | undefined;
  upgradeStatus: number | undefined;
  connectTimer: ReturnType<typeof setTimeout> | undefined;
  heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  heartbeatDeadline: ReturnType<typeof setTimeout> | undefined;
  refreshTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Resume frames stay well below the gateway's 16 KiB frame limit. */
const RESUME_FRAME_BYTES_MAX = 12_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const REFRESH_RETRY_MS = 5000;
const REFRESH_RETRY_MIN_MS = 250;
const CLOSE_WAIT_MS = 2000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isSummary(value: unknown): value is Summary {
  return (
    isObject(value) &&
    typeof value.conversationId === 'string' &&
    typeof value.seq === 'number' &&
    Number.isSafeInteger(value.seq) &&
    value.seq >= 1
  );
}

function checkedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new TypeError(`ChatConnection: not a ws:// or wss:// URL: ${url}`);
  return parsed.toString();
}

/**
 * The live connection to the gateway: connects, resumes from its cursors, delivers messages in
 * order and once each, refreshes the token, detects dead connections and reconnects with backoff
 * (to the next replica when given several) until `close()`.
 */
export class ChatConnection extends TypedEmitter<ChatConnectionEvents> {
  private readonly urls: string[];
  private tokenSource: TokenSource;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly tokenIn: 'query' | 'header';
  private readonly settings: {
    minReconnectDelayMs: number;
    maxReconnectDelayMs: number;
    stableConnectionMs: number;
    connectTimeoutMs: number;
    heartbeatIntervalMs: number;
    heartbeatTimeoutMs: number;
    tokenRefreshMarginMs: number;
  };
  private readonly order: ConversationOrder;
  private currentState: ConnectionState = 'disconnected';
  private running = false;
  private session: Session | undefined;
  private sessionIds = 0;
  /** Bumped by close() and every new attempt, so an attempt still awaiting its token gives up. */
  private attemptId = 0;
  private urlIndex = 0;
  private failedAttempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private lastEpoch: string | undefined;
  private lastUser: string | undefined;

  constructor(options: ChatConnectionOptions) {
    super();
    const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
    if (urls.length === 0) throw new TypeError('ChatConnection: give at least one url');
    this.urls = urls.map(checkedUrl);
    this.tokenSource = options.token;
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl) {
      throw new TypeError('ChatConnection: no global WebSocket here; pass the `WebSocket` option (in Node: `import { WebSocket } from "ws"`)');
    }
    this.WebSocketImpl = WebSocketImpl;
    this.tokenIn = options.tokenIn ?? 'query';
    this.settings = {
      minReconnectDelayMs: options.minReconnectDelayMs ?? 500,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 30_000,
      stableConnectionMs: options.stableConnectionMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 25_000,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 10_000,
      tokenRefreshMarginMs: options.tokenRefreshMarginMs ?? 30_000,
    };
    this.lastEpoch = options.epoch;
    const api = options.api;
    this.order = new ConversationOrder({
      deliver: (message) => this.emit('message', message),
      readRange: api ? (id, after, until) => api.listAllMessages(id, { after, until }) : undefined,
      onGapUnreadable: () => this.restartSession('a gap stayed open; resuming to fill it'),
      onHole: (id) => this.emit('recoveryFailed', [id]),
      onReadFailed: (id, error) =>
        this.emit('error', new ChatConnectionError('gap_read_failed', `could not read missing messages of ${id}; retrying`, { cause: error })),
      isResuming: (id) => this.session?.resuming.has(id) ?? false,
      gapTimeoutMs: options.gapTimeoutMs ?? 2000,
    });
    for (const [id, seq] of Object.entries(options.cursors ?? {})) this.track(id, seq);
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
    this.failedAttempts = 0;
    this.setState('connecting');
    void this.openSocket();
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
    this.failedAttempts = 0;
    if (this.session) {
      this.restartSession('reconnect requested');
      return;
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    void this.openSocket();
  }

  /** Replaces the token source; used from the next connection attempt or refresh on. */
  setToken(token: TokenSource): void {
    this.tokenSource = token;
  }

  /**
   * Seeds the cursor of a conversation the app loaded over REST: messages up to `lastSeq` are not
   * delivered again, and the next resume asks for what came after. Cursors never move back.
   */
  track(conversationId: string, lastSeq: number): void {
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) throw new RangeError(`track: lastSeq must be a non-negative integer, got ${lastSeq}`);
    this.order.track(conversationId, lastSeq);
  }

  /** Forgets a conversation (e.g. the user left it): no more cursor, nothing resumed for it. */
  untrack(conversationId: string): void {
    this.order.untrack(conversationId);
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

  private async openSocket(): Promise<void> {
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

    const url = this.urls[this.urlIndex % this.urls.length] as string;
    let socket: WebSocketLike;
    try {
      if (this.tokenIn === 'header') {
        socket = new this.WebSocketImpl(url, undefined, { headers: { authorization: `Bearer ${token}` } });
      } else {
        const withToken = new URL(url);
        withToken.searchParams.set('token', token);
        socket = new this.WebSocketImpl(withToken.toString());
      }
    } catch (error) {
      this.emit('error', new ChatConnectionError('connect_failed', `could not open a WebSocket to ${url}`, { cause: error }));
      this.scheduleReconnect(undefined, CloseCode.Abnormal, 'could not open a WebSocket', false);
      return;
    }

    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const session: Session = {
      id: ++this.sessionIds,
      socket,
      url,
      pacer: new FramePacer((frame) => {
        if (socket.readyState === SOCKET_OPEN) socket.send(frame);
      }),
      closed,
      markClosed,
      token,
      expiresAtMs,
      readyAtMs: undefined,
      resumeBatches: [],
      resuming: new Set(),
      lostInResume: [],
      epochChanged: false,
      errorMessage: undefined,
      upgradeStatus: undefined,
      connectTimer: undefined,
      heartbeatTimer: undefined,
      heartbeatDeadline: undefined,
      refreshTimer: undefined,
    };
    this.session = session;
    listenToSocket(socket, {
      open: () => this.onOpen(session),
      message: (data) => this.onFrame(session, data),
      close: (code, reason) => {
        session.markClosed();
        this.onSocketClosed(session, code, reason || session.errorMessage || '');
      },
      error: (message) => {
        session.errorMessage ??= message;
        const status = /Unexpected server response: (\d{3})/.exec(message ?? '')?.[1];
        if (status !== undefined) session.upgradeStatus = Number(status);
      },
    });
    session.connectTimer = setTimeout(
      () => this.giveUp(session, CloseCode.ClientTimeout, `not ready within ${this.settings.connectTimeoutMs} ms`),
      this.settings.connectTimeoutMs,
    );
  }

  private isCurrent(session: Session): boolean {
    return this.session === session;
  }

  private onOpen(session: Session): void {
    if (!this.isCurrent(session)) return;
    // First frame on the socket: the gateway then holds live messages of these conversations
    // until it has replayed what the cursors missed, so nothing overtakes the replay.
    for (const frame of this.resumeFrames(session)) this.sendFrame(session, frame);
  }

  /** The cursors in as many resume frames as the gateway's limits need (usually one). */
  private resumeFrames(session: Session): ResumeFrame[] {
    const epoch = this.lastEpoch;
    const frames: ResumeFrame[] = [];
    let batch: Record<string, number> = {};
    let ids: string[] = [];
    let bytes = 0;
    const flush = () => {
      frames.push({ type: 'resume', cursors: batch, ...(epoch !== undefined ? { epoch } : {}) });
      session.resumeBatches.push(ids);
      batch = {};
      ids = [];
      bytes = 0;
    };
    for (const [id, seq] of Object.entries(this.order.cursors())) {
      const entryBytes = id.length + String(seq).length + 4;
      if (ids.length >= RESUME_CURSORS_MAX || (ids.length > 0 && bytes + entryBytes > RESUME_FRAME_BYTES_MAX)) flush();
      batch[id] = seq;
      ids.push(id);
      session.resuming.add(id);
      bytes += entryBytes;
    }
    if (ids.length > 0 || frames.length === 0) flush();
    return frames;
  }

  private sendFrame(session: Session, frame: ClientFrame): void {
    session.pacer.send(JSON.stringify(frame));
  }

  private onFrame(session: Session, data: unknown): void {
    if (!this.isCurrent(session)) return;
    // Any frame proves the connection is alive.
    clearTimeout(session.heartbeatDeadline);
    session.heartbeatDeadline = undefined;
    if (typeof data !== 'string') {
      this.emit('error', new ChatConnectionError('invalid_frame', 'the gateway sent a binary frame'));
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch (error) {
      this.emit('error', new ChatConnectionError('invalid_frame', 'the gateway sent a frame that is not JSON', { cause: error }));
      return;
    }
    if (!isObject(frame)) {
      this.emit('error', new ChatConnectionError('invalid_frame', 'the gateway sent a frame that is not an object'));
      return;
    }
    switch (frame.type) {
      case 'ready':
        this.onReady(session, String(frame.user), String(frame.epoch));
        return;
      case 'message':
        if (isSummary(frame.data)) this.order.offer(frame.data);
        else this.emit('error', new ChatConnectionError('invalid_frame', 'the gateway sent a malformed message frame'));
        return;
      case 'resumed':
        this.onResumed(session, frame.recovered === true, Array.isArray(frame.conversations) ? frame.conversations.map(String) : []);
        return;
      case 'error':
        this.emit('error', new ChatConnectionError(String(frame.code), String(frame.message)));
        return;
      default:
        // `pong`, or a frame type from a later version of the contract: nothing to do.
        return;
    }
  }

  private onReady(session: Session, user: string, epoch: string): void {
    clearTimeout(session.connectTimer);
    session.connectTimer = undefined;
    session.readyAtMs = Date.now();
    if (this.lastEpoch !== undefined && epoch !== this.lastEpoch) {
      // The store lost its history: old cursors would drop new messages as duplicates. The
      // gateway reports the resumed conversations as not recovered.
      this.order.reset();
      session.epochChanged = true;
    }
    this.lastEpoch = epoch;
    this.lastUser = user;
    this.setState('connected');
    this.emit('ready', { user, epoch, url: session.url });
    this.scheduleTokenRefresh(session);
    this.startHeartbeat(session);
  }

  private onResumed(session: Session, recovered: boolean, conversations: string[]): void {
    const batch = session.resumeBatches.shift() ?? [];
    for (const id of batch) session.resuming.delete(id);
    const lost = recovered ? [] : conversations;
    if (lost.length > 0) {
      session.lostInResume.push(...lost);
      this.emit('recoveryFailed', lost);
      // What was replayed after the hole is waiting for seqs that no longer exist: deliver it.
      // (After an epoch change the cursors are already gone and new ones are valid.)
      if (!session.epochChanged) for (const id of lost) this.order.skipGap(id);
    }
    if (session.resumeBatches.length === 0 && this.isCurrent(session)) {
      this.emit('resumed', { recovered: session.lostInResume.length === 0, conversations: [...session.lostInResume] });
    }
  }

  private startHeartbeat(session: Session): void {
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = this.settings;
    if (heartbeatIntervalMs <= 0) return;
    session.heartbeatTimer = setInterval(() => {
      this.sendFrame(session, { type: 'ping' });
      session.heartbeatDeadline ??= setTimeout(
        () => this.giveUp(session, CloseCode.ClientTimeout, `no answer to a ping within ${heartbeatTimeoutMs} ms`),
        heartbeatTimeoutMs,
      );
    }, heartbeatIntervalMs);
  }

  /** Schedules an `auth` frame with a fresh token a margin before the current one expires. */
  private scheduleTokenRefresh(session: Session, delayMs?: number): void {
    clearTimeout(session.refreshTimer);
    session.refreshTimer = undefined;
    if (typeof this.tokenSource === 'string' || session.expiresAtMs === undefined) return;
    let delay = delayMs;
    if (delay === undefined) {
      const remaining = session.expiresAtMs - Date.now();
      delay = remaining - Math.min(this.settings.tokenRefreshMarginMs, remaining / 2);
    }
    session.refreshTimer = setTimeout(() => void this.refreshToken(session), Math.min(Math.max(0, delay), MAX_TIMER_MS));
  }

  private async refreshToken(session: Session): Promise<void> {
    session.refreshTimer = undefined;
    let token: string;
    try {
      token = await resolveToken(this.tokenSource);
    } catch (error) {
      if (!this.isCurrent(session)) return;
      this.emit('error', new ChatConnectionError('token_refresh_failed', 'the token function failed; retrying', { cause: error }));
      this.retryRefresh(session);
      return;
    }
    if (!this.isCurrent(session)) return;
    const expiresAtMs = tokenExpiresAtMs(token);
    if (expiresAtMs === undefined || session.expiresAtMs === undefined || expiresAtMs <= session.expiresAtMs) {
      // Not fresher than the current one (a cache that renews late): ask again a little later.
      // If no fresher token comes, the gateway closes with 4401 and the reconnect gets one.
      this.retryRefresh(session);
      return;
    }
    this.sendFrame(session, { type: 'auth', token });
    session.token = token;
    session.expiresAtMs = expiresAtMs;
    this.scheduleTokenRefresh(session);
  }

  private retryRefresh(session: Session): void {
    if (session.expiresAtMs === undefined) return;
    const delay = Math.min(REFRESH_RETRY_MS, (session.expiresAtMs - Date.now()) / 2);
    if (delay >= REFRESH_RETRY_MIN_MS) this.scheduleTokenRefresh(session, delay);
  }

  /** Gives up on a socket that may never report its close (half-open, stuck handshake). */
  private giveUp(session: Session, code: number, reason: string): void {
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
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.openSocket();
    }, 0);
  }

  private onSocketClosed(session: Session, code: number, reason: string): void {
    if (!this.isCurrent(session)) return;
    this.endSession(session, undefined, reason);
    this.afterSessionEnded(session, code, reason);
  }

  /** Clears the session's timers and queue, and closes its socket (unless `closeCode` is undefined: already closed). */
  private endSession(session: Session, closeCode: number | undefined, reason: string): void {
    clearTimeout(session.connectTimer);
    clearInterval(session.heartbeatTimer);
    clearTimeout(session.heartbeatDeadline);
    clearTimeout(session.refreshTimer);
    session.pacer.stop();
    if (closeCode === undefined) return;
    try {
      // A socket still connecting is closed too (browsers then log a warning; nothing is lost).
      if (session.socket.readyState <= SOCKET_OPEN) session.socket.close(closeCode, reason.slice(0, 120));
    } catch (error) {
      this.emit('error', new ChatConnectionError('close_failed', 'closing the socket failed', { cause: error }));
    }
  }

  private afterSessionEnded(session: Session, code: number, reason: string): void {
    this.session = undefined;
    this.order.clearPending();
    if (!this.running) return;
    const wasReady = session.readyAtMs !== undefined;
    if (wasReady && Date.now() - (session.readyAtMs as number) >= this.settings.stableConnectionMs) this.failedAttempts = 0;
    const staticToken = typeof this.tokenSource === 'string';

    if (code === CloseCode.TokenExpired || session.upgradeStatus === 401) {
      if (staticToken) {
        this.fail(
          new ChatConnectionError(
            code === CloseCode.TokenExpired ? 'token_expired' : 'unauthenticated',
            code === CloseCode.TokenExpired
              ? 'the token expired; pass a token function so the SDK can refresh it'
              : 'the gateway refused the token',
            { closeCode: code },
          ),
          { code, reason, url: session.url },
        );
        return;
      }
      // A token function gives a fresh token on the next attempt; right away if this socket had worked.
      this.scheduleReconnect(session, code, reason, wasReady && code === CloseCode.TokenExpired);
      return;
    }
    // Every other failure tries the next replica; 1001 (shutdown) right away.
    this.urlIndex += 1;
    this.scheduleReconnect(session, code, reason, wasReady && code === CloseCode.GoingAway);
  }

  private scheduleReconnect(session: Session | undefined, code: number, reason: string, immediately: boolean): void {
    if (!this.running) return;
    const delayMs = immediately
      ? 0
      : backoffDelayMs(this.failedAttempts++, {
          minDelayMs: this.settings.minReconnectDelayMs,
          maxDelayMs: this.settings.maxReconnectDelayMs,
        });
    this.emit('disconnect', { code, reason, url: session?.url ?? this.urls[this.urlIndex % this.urls.length] ?? '', willReconnect: true, delayMs });
    if (!this.running) return;
    this.setState('reconnecting');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.openSocket();
    }, delayMs);
  }

  /** No more attempts: cancels a pending reconnect, drops held messages, closes the socket (returned). */
  private halt(reason: string): Session | undefined {
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
