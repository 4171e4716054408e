import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CloseCode, PROTOCOL_VERSION, type DeliveryEvent, type ErrorFrame, type ReadyFrame } from '@chat/contracts';
import { ConversationStream, type ConversationStreamDeps, type HistoryRead } from './conversation-stream.js';
import type { FrameRateLimit } from './frame-rate-limit.js';
import { wireFrame } from './wire-frames.js';
import { holdUntilEndOfTurn } from './write-batch.js';

export interface ClientConnectionDeps {
  streamDeps: Omit<ConversationStreamDeps, 'send' | 'entitledSinceMs' | 'readRecent'>;
  readRecent(conversationId: string, username: string, beforeSeq: number | undefined, sinceMs: number): Promise<HistoryRead>;
  sendBufferLimitBytes: number;
  /** How long after `ready` live events wait for the client's first frame (a resume). */
  resumeWindowMs: number;
  onSent: () => void;
  /** This side closes the socket with `code` (counted now: a peer that does not read never answers). */
  onClosing: (code: number) => void;
}

/** Live events kept for a socket that is not ready yet; past this it must resume instead. */
const EARLY_EVENTS_MAX = 10_000;

/**
 * Acceptance times come from the api's clock and `ready` from this one: a socket is owed messages
 * accepted a little before it was ready, so a clock that runs behind cannot cost a message.
 */
const CLOCK_SKEW_MS = 250;

/** How long a closed socket may take to acknowledge the close frame before it is cut. */
const CLOSE_GRACE_MS = 2000;

/**
 * One authenticated socket: its user, its token expiry, and an ordered stream per conversation.
 * Everything written to the socket goes through `send`, which closes a socket that reads too
 * slowly (1013) instead of letting its backlog grow in this process.
 *
 * An idle socket should cost little memory (tens of thousands per replica): everything that is
 * not needed until the socket does something is created on first use, and the token expiry is
 * checked by the gateway's one-second sweep rather than a timer per socket.
 */
export class ClientConnection {
  /** Set by the heartbeat when a ping goes out, cleared by the pong. */
  awaitingPong = false;
  /** Token expiry (epoch ms); past it the gateway's sweep closes the socket with 4401. */
  expiresAtMs: number;
  /** The client's frame budget, created with its first frame. */
  rateLimit: FrameRateLimit | undefined;
  /** The code this side closed with, if it did (the peer may never acknowledge it). */
  closedWith: number | undefined;
  /** When `ready` went out. */
  private readyAtMs = Number.POSITIVE_INFINITY;
  private streams: Map<string, ConversationStream> | undefined;
  private streamHost: ConversationStreamDeps | undefined;
  private closed = false;
  /** Until the first client frame or the resume window, live events wait in `early`. */
  private settled = false;
  private early: DeliveryEvent[] | undefined;
  /** Conversations joined before the socket settled: they catch up when it does. */
  private joinedBeforeSettled: Set<string> | undefined;
  /** Conversations the user is being added to: their messages wait for the `added` frame. */
  private awaitingAdded: Set<string> | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  /** Client frames are handled one after another, and only once the socket is ready. */
  private frameChain: Promise<void> | undefined;
  private framesBeforeReady: (() => Promise<void>)[] | undefined;
  private corked = false;

  constructor(
    readonly socket: WebSocket,
    /** The TCP socket under the WebSocket, for batching writes. */
    private readonly transport: Duplex,
    readonly username: string,
    /** This socket's slot among the user's sockets on every replica. */
    readonly socketId: string,
    expiresAtMs: number,
    private readonly deps: ClientConnectionDeps,
  ) {
    this.expiresAtMs = expiresAtMs;
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  /** Open and past `ready`: frames about the user's conversations, and ephemeral ones (presence, typing), may be written. */
  get isReady(): boolean {
    return this.readyAtMs !== Number.POSITIVE_INFINITY && this.isOpen;
  }

  ready(epoch: string): void {
    this.readyAtMs = Date.now();
    const frame: ReadyFrame = { type: 'ready', user: this.username, epoch, protocol: PROTOCOL_VERSION };
    this.sendJson(frame);
    const queued = this.framesBeforeReady;
    this.framesBeforeReady = undefined;
    for (const task of queued ?? []) this.runFrame(task);
    // A client that resumes sends `resume` as soon as its socket opens, which may reach us just
    // after `ready`. Live events wait for its first frame (or the resume window) so that a
    // resume's hold is in place before them and nothing overtakes the replay.
    // The window ends in setImmediate, after the event loop's I/O phase: on a loaded process the
    // timer can come due while the client's resume frame already waits in the socket, and timers
    // run before I/O in each turn.
    this.settleTimer = setTimeout(() => setImmediate(() => this.settle()), this.deps.resumeWindowMs);
  }

  /** From now on live events go straight to the conversation streams. */
  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    const early = this.early;
    this.early = undefined;
    for (const event of early ?? []) this.deliver(event);
    const joined = this.joinedBeforeSettled;
    this.joinedBeforeSettled = undefined;
    for (const id of joined ?? []) this.joined(id);
  }

  /** A live delivery event for this socket's user. */
  deliver(event: DeliveryEvent): void {
    if (this.closed) return;
    if (!this.settled) {
      this.early ??= [];
      if (this.early.length < EARLY_EVENTS_MAX) this.early.push(event);
      else this.close(CloseCode.TryAgainLater, 'too many events before ready; resume later');
      return;
    }
    // The event is a StreamItem already (seq, rev, updated, frame): no copy per socket.
    this.stream(event.conversationId).offer(event, event.acceptedAtMs);
  }

  /**
   * Runs `task` after every frame before it, once the socket is ready. The first frame settles
   * the socket right after its synchronous start (where a resume puts its hold in place).
   */
  enqueueFrame(task: () => Promise<void>): void {
    if (this.readyAtMs === Number.POSITIVE_INFINITY) {
      (this.framesBeforeReady ??= []).push(task);
      return;
    }
    this.runFrame(task);
  }

  private runFrame(task: () => Promise<void>): void {
    const run = () => {
      const running = task();
      this.settle();
      return running;
    };
    this.frameChain = this.frameChain ? this.frameChain.then(run, run) : run().catch(() => undefined);
  }

  stream(conversationId: string): ConversationStream {
    this.streams ??= new Map();
    let stream = this.streams.get(conversationId);
    if (!stream) {
      this.streamHost ??= {
        ...this.deps.streamDeps,
        readRecent: (id, beforeSeq, sinceMs) => this.deps.readRecent(id, this.username, beforeSeq, sinceMs),
        send: (frame) => this.send(frame),
        entitledSinceMs: () => this.readyAtMs - CLOCK_SKEW_MS,
      };
      stream = new ConversationStream(conversationId, this.streamHost);
      this.streams.set(conversationId, stream);
    }
    return stream;
  }

  /** After a lost subscription: every conversation of the user, seen here or not, catches up. */
  catchUp(conversationIds: readonly string[]): Promise<unknown> {
    if (!this.isOpen || !this.settled) return Promise.resolve();
    const ids = new Set([...(this.streams?.keys() ?? []), ...conversationIds]);
    // Those still waiting for their `added` frame catch up once it went out (added()).
    for (const id of this.awaitingAdded ?? []) ids.delete(id);
    return Promise.allSettled([...ids].map((id) => this.stream(id).catchUp()));
  }

  /**
   * The user joined a conversation, whose channel this replica now follows: what was published
   * before that is read from the store (the first frames owed since they joined). A socket not
   * settled yet does so when it settles.
   */
  joined(conversationId: string): void {
    if (!this.isOpen) return;
    if (!this.settled) {
      (this.joinedBeforeSettled ??= new Set()).add(conversationId);
      return;
    }
    this.stream(conversationId)
      .catchUp()
      .catch(() => undefined);
  }

  /**
   * The user is being added to a conversation: its messages wait until `added` tells the socket
   * (the contract puts `added` before the first message of a conversation).
   */
  expectAdded(conversationId: string): void {
    if (!this.isOpen) return;
    (this.awaitingAdded ??= new Set()).add(conversationId);
    this.stream(conversationId).hold();
  }

  /** Sends the `added` frame (none when the conversation is gone meanwhile), then the conversation's messages. */
  added(conversationId: string, frame: string | undefined): void {
    if (!this.isOpen) return;
    this.awaitingAdded?.delete(conversationId);
    if (frame !== undefined && this.isReady) this.send(frame);
    this.streams?.get(conversationId)?.release();
    this.joined(conversationId);
  }

  dropStream(conversationId: string): void {
    this.awaitingAdded?.delete(conversationId);
    this.streams?.get(conversationId)?.close();
    this.streams?.delete(conversationId);
  }

  send(frame: Buffer | string): boolean {
    if (!this.isOpen) return false;
    if (this.socket.bufferedAmount > this.deps.sendBufferLimitBytes) {
      this.close(CloseCode.TryAgainLater, 'reading too slowly; resume later');
      return false;
    }
    if (!this.corked) {
      this.corked = true;
      this.transport.cork();
      holdUntilEndOfTurn(this);
    }
    // A Buffer is a frame shared by many sockets (a delivery event, a presence or typing frame):
    // its wire bytes are built once (wire-frames.ts). A string is this socket's own.
    if (typeof frame === 'string') this.socket.send(frame, { binary: false });
    else this.transport.write(wireFrame(frame));
    this.deps.onSent();
    return true;
  }

  /** @internal Ends the turn's batch (write-batch.ts). */
  flush(): void {
    this.corked = false;
    this.transport.uncork();
  }

  sendJson(frame: object): boolean {
    return this.send(JSON.stringify(frame));
  }

  sendError(code: string, message: string): void {
    const frame: ErrorFrame = { type: 'error', code, message };
    this.sendJson(frame);
  }

  close(code: number, reason: string): void {
    if (!this.closed && this.socket.readyState <= this.socket.OPEN) {
      this.closedWith = code;
      this.deps.onClosing(code);
      this.socket.close(code, reason);
      // A peer that does not read never answers the close frame: do not keep its socket for ws's
      // 30 s close timeout.
      setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
    }
    this.dispose();
  }

  /** Releases timers and buffers; called once the socket is closed, however it closed. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams?.values() ?? []) stream.close();
    this.streams = undefined;
    this.early = undefined;
    this.joinedBeforeSettled = undefined;
    this.awaitingAdded = undefined;
    this.framesBeforeReady = undefined;
    clearTimeout(this.settleTimer);
  }
}
