import { CloseCode } from './close-codes.js';
import type { ConnectionTimings } from './connection-options.js';
import type { ChatConnectionError } from './errors.js';
import { FramePacer } from './frame-pacer.js';
import { Heartbeat } from './heartbeat.js';
import { ResumeBatcher } from './resume-batcher.js';
import type { TokenSource } from './token-source.js';
import { TokenRefresher } from './token-refresher.js';
import type { ClientFrame } from './types.js';
import { SOCKET_OPEN, type WebSocketLike } from './websocket-like.js';

/** What a session asks of the connection that owns it. */
export interface SocketSessionHooks {
  /** The token source now (for refreshes). */
  tokenSource(): TokenSource;
  /** False once the connection has moved on to another socket (or none). */
  isCurrent(): boolean;
  /** Give up on this socket, which may never report its close (half-open, stuck handshake). */
  giveUp(code: number, reason: string): void;
  onError(error: ChatConnectionError): void;
}

/**
 * One socket and everything that lives and dies with it: its send queue, its resume, its
 * heartbeat, its token refreshes and the timer that gives up on it if `ready` never comes.
 */
export class SocketSession {
  /** Settles when the socket reports its close. */
  readonly closed: Promise<void>;
  readonly markClosed: () => void;
  readonly resume = new ResumeBatcher();
  readonly heartbeat: Heartbeat;
  readonly tokenRefresher: TokenRefresher;
  /** When `ready` came; undefined before. */
  readyAtMs: number | undefined;
  /** The store epoch changed at `ready`: every cursor was dropped, nothing is replayed. */
  epochChanged = false;
  /** From a ws error such as "Unexpected server response: 401". */
  private errorMessage: string | undefined;
  private status: number | undefined;
  private readonly pacer: FramePacer;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly socket: WebSocketLike,
    readonly url: string,
    /** The `exp` of the token the socket was opened with, in epoch ms. */
    expiresAtMs: number | undefined,
    timings: ConnectionTimings,
    hooks: SocketSessionHooks,
  ) {
    let markClosed!: () => void;
    this.closed = new Promise<void>((resolve) => (markClosed = resolve));
    this.markClosed = markClosed;
    this.pacer = new FramePacer((frame) => {
      if (socket.readyState === SOCKET_OPEN) socket.send(frame);
    });
    this.heartbeat = new Heartbeat({
      intervalMs: timings.heartbeatIntervalMs,
      timeoutMs: timings.heartbeatTimeoutMs,
      ping: () => this.send({ type: 'ping' }),
      onDead: (reason) => hooks.giveUp(CloseCode.ClientTimeout, reason),
    });
    this.tokenRefresher = new TokenRefresher(
      {
        tokenSource: hooks.tokenSource,
        marginMs: timings.tokenRefreshMarginMs,
        isCurrent: hooks.isCurrent,
        sendToken: (token) => this.send({ type: 'auth', token }),
        onError: hooks.onError,
      },
      expiresAtMs,
    );
    this.connectTimer = setTimeout(
      () => hooks.giveUp(CloseCode.ClientTimeout, `not ready within ${timings.connectTimeoutMs} ms`),
      timings.connectTimeoutMs,
    );
  }

  /** The HTTP status of a refused upgrade, when the WebSocket implementation reported one. */
  get upgradeStatus(): number | undefined {
    return this.status;
  }

  send(frame: ClientFrame): void {
    this.pacer.send(JSON.stringify(frame));
  }

  /** Keeps what an `error` event said (only `ws` says anything), to explain the close that follows. */
  noteError(message: string | undefined): void {
    this.errorMessage ??= message;
    const status = /Unexpected server response: (\d{3})/.exec(message ?? '')?.[1];
    if (status !== undefined) this.status = Number(status);
  }

  /** The close's reason, or else what the error before it said. */
  closeReason(reason: string): string {
    return reason || this.errorMessage || '';
  }

  /** The gateway accepted the socket: no more connect timeout. */
  markReady(): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.readyAtMs = Date.now();
  }

  /** Cancels every timer and drops what is queued (the socket is done with). */
  stop(): void {
    clearTimeout(this.connectTimer);
    this.heartbeat.stop();
    this.tokenRefresher.stop();
    this.pacer.stop();
  }

  /** Closes the socket, a still-connecting one too (browsers then log a warning; nothing is lost). */
  close(code: number, reason: string): void {
    if (this.socket.readyState <= SOCKET_OPEN) this.socket.close(code, reason.slice(0, 120));
  }
}
