import { WebSocket, type RawData } from 'ws';
import type { RegisteredUser } from './api-client.js';
import { readMessageFrame } from './message-text.js';

/** Where a socket's `message` frames go; `arrivedAt` is performance.now() when the frame was read. */
export interface DeliverySink {
  delivered(socket: BenchSocket, conversationId: string, seq: number, nonce: number, arrivedAt: number): void;
}

export interface SocketEvents {
  /** A socket closed that this run did not close. */
  onUnexpectedClose(socket: BenchSocket, code: number, reason: string): void;
  /** An `error` frame, or a frame that is not JSON. */
  onProtocolError(socket: BenchSocket, what: string): void;
}

/** One user's WebSocket to one gateway replica, authenticated with `?token=`. */
/**
 * Frames a socket may get that the benchmark does not count: pong, and the 1.1 frames about the
 * user's conversations and co-members (the workloads' users share conversations, so they see each
 * other come online, are told of the conversations created for them, and so on).
 */
const PASSED_OVER = new Set(['pong', 'presence', 'conversation', 'read', 'typing']);

export class BenchSocket {
  private closing = false;
  private isReady = false;

  private constructor(
    readonly index: number,
    readonly user: RegisteredUser,
    readonly replica: number,
    readonly ws: WebSocket,
  ) {}

  get open(): boolean {
    return this.isReady && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Connects and resolves once the gateway sent `ready`; rejects if the socket is refused, closes
   * first, or nothing comes within `timeoutMs`.
   */
  static connect(
    wsUrl: string,
    user: RegisteredUser,
    index: number,
    replica: number,
    sink: DeliverySink,
    events: SocketEvents,
    timeoutMs: number,
  ): Promise<BenchSocket> {
    const url = `${wsUrl}${wsUrl.includes('?') ? '&' : '?'}token=${encodeURIComponent(user.token)}`;
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const socket = new BenchSocket(index, user, replica, ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`socket of ${user.username} to ${wsUrl}: no ready within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.on('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        res.resume();
        reject(new Error(`socket of ${user.username} to ${wsUrl}: upgrade refused with HTTP ${res.statusCode}`));
        ws.terminate();
      });
      ws.on('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`socket of ${user.username} to ${wsUrl}: ${error.message}`));
      });
      ws.on('close', (code, reason) => {
        clearTimeout(timer);
        if (!socket.isReady) reject(new Error(`socket of ${user.username} to ${wsUrl} closed before ready (${code} ${reason.toString()})`));
        else if (!socket.closing) events.onUnexpectedClose(socket, code, reason.toString());
      });
      ws.on('message', (data: RawData, isBinary: boolean) => {
        const arrivedAt = performance.now();
        const frame = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        const fields = isBinary ? undefined : readMessageFrame(frame);
        if (fields) {
          sink.delivered(socket, fields.conversationId, fields.seq, fields.nonce, arrivedAt);
          return;
        }
        socket.onOtherFrame(frame, events, () => {
          clearTimeout(timer);
          resolve(socket);
        });
      });
    });
  }

  private onOtherFrame(frame: Buffer, events: SocketEvents, onReady: () => void): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(frame.toString('utf8'));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      events.onProtocolError(this, 'a frame that is not JSON');
      return;
    }
    const type = typeof parsed === 'object' && parsed !== null && 'type' in parsed ? parsed.type : undefined;
    if (type === 'ready') {
      this.isReady = true;
      onReady();
    } else if (type === 'error') {
      events.onProtocolError(this, `error frame ${JSON.stringify(parsed).slice(0, 200)}`);
    } else if (typeof type !== 'string' || !PASSED_OVER.has(type)) {
      events.onProtocolError(this, `unexpected frame ${JSON.stringify(parsed).slice(0, 200)}`);
    }
  }

  /** Closes (1000) and resolves once the close handshake is over, or after `timeoutMs` (terminated). */
  close(timeoutMs = 5000): Promise<void> {
    this.closing = true;
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, timeoutMs);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(1000, 'bench done');
    });
  }
}
