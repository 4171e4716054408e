import { WebSocket } from 'ws';
import type { Summary } from '@chat/contracts';

export interface ServerFrame {
  type: string;
  [key: string]: unknown;
}

/** The data of a `message` frame: the worker's delivery summary. */
export type MessageFrameData = Summary;

/**
 * A WebSocket client for tests: records every frame, and waits for the ones a test expects with a
 * timeout that fails loudly (never a fixed sleep).
 */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  /** The last socket error (a refused upgrade shows up here). */
  error: Error | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('error', (error) => {
      this.error = error;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('gateway sent a binary frame');
      this.frames.push(JSON.parse(data.toString()) as ServerFrame);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
  }

  /** The `message` frames' data, in arrival order (optionally of one conversation). */
  messages(conversationId?: string): MessageFrameData[] {
    return this.frames
      .filter((frame) => frame.type === 'message')
      .map((frame) => frame.data as MessageFrameData)
      .filter((data) => conversationId === undefined || data.conversationId === conversationId);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves when `check` holds, or rejects after `timeoutMs` saying what was awaited. */
  waitUntil(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.frames.length} frames: ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The first frame of `type` received after the `from`-th frame. */
  async nextFrame(type: string, from = 0, timeoutMs = 5000): Promise<ServerFrame> {
    const find = () => this.frames.slice(from).find((frame) => frame.type === type);
    await this.waitUntil(() => find() !== undefined, `a ${type} frame`, timeoutMs);
    return find() as ServerFrame;
  }

  waitForMessages(count: number, conversationId?: string, timeoutMs = 5000): Promise<void> {
    return this.waitUntil(() => this.messages(conversationId).length >= count, `${count} message frames`, timeoutMs);
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }

  private wake(): void {
    const ready = this.waiters.filter((waiter) => waiter.check());
    this.waiters = this.waiters.filter((waiter) => !ready.includes(waiter));
    for (const waiter of ready) waiter.resolve();
  }
}

/** Opens a socket with the token in the query and waits for `ready`. */
export async function connectClient(wsUrl: string, token: string, timeoutMs = 5000): Promise<TestSocket> {
  const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
  const client = new TestSocket(ws);
  await Promise.race([
    client.nextFrame('ready', 0, timeoutMs),
    client.closed.then(({ code }) => {
      throw new Error(`socket closed (${code}) before ready: ${client.error?.message ?? 'no error'}`);
    }),
  ]);
  return client;
}

/** Tries an upgrade that should be refused; resolves with the HTTP status. */
export function refusedUpgradeStatus(url: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no answer to the upgrade'));
    }, timeoutMs);
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      clearTimeout(timer);
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', () => undefined);
  });
}

/** Asserts per-conversation frames are exactly seq from..to, in order, once each. */
export function seqsOf(messages: MessageFrameData[]): number[] {
  return messages.map((message) => message.seq);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}
