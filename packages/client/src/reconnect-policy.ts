import { backoffDelayMs } from './backoff.js';
import { CloseCode } from './close-codes.js';
import type { ConnectionTimings } from './connection-options.js';
import { ChatConnectionError } from './errors.js';

/** How a socket ended, as far as deciding what comes next goes. */
export interface EndedSocket {
  /** The close code (or the SDK's own, when it gave the socket up). */
  code: number;
  /** The refused upgrade's HTTP status, when the WebSocket implementation reports it (`ws` does). */
  upgradeStatus: number | undefined;
  /** When the socket got its `ready`; undefined if it never did. */
  readyAtMs: number | undefined;
  /** The token is a string: the SDK cannot get another one. */
  staticToken: boolean;
}

export type NextStep =
  /** Retrying cannot help: stop and report this. */
  | { action: 'stop'; error: ChatConnectionError }
  /** Connect again to `url`: at once, or after `delayMs(false)`. */
  | { action: 'retry'; immediately: boolean };

/**
 * Where and when to reconnect: rotates through the replicas, backs off with jitter while attempts
 * keep failing (reset by a connection that stayed up), and stops on what retrying cannot fix.
 */
export class ReconnectPolicy {
  private urlIndex = 0;
  private failedAttempts = 0;

  constructor(
    private readonly urls: readonly string[],
    private readonly timings: Pick<ConnectionTimings, 'minReconnectDelayMs' | 'maxReconnectDelayMs' | 'stableConnectionMs'>,
  ) {}

  /** The replica the next attempt connects to. */
  get url(): string {
    return this.urls[this.urlIndex % this.urls.length] as string;
  }

  /** Starts the backoff again from its first step. */
  reset(): void {
    this.failedAttempts = 0;
  }

  /** How long to wait before the next attempt; each wait that is not immediate counts as a failed attempt. */
  delayMs(immediately: boolean): number {
    if (immediately) return 0;
    return backoffDelayMs(this.failedAttempts++, {
      minDelayMs: this.timings.minReconnectDelayMs,
      maxDelayMs: this.timings.maxReconnectDelayMs,
    });
  }

  /** What to do after a socket ended on its own or was given up (not closed by the app). */
  afterEnded(socket: EndedSocket): NextStep {
    const { code, readyAtMs } = socket;
    const wasReady = readyAtMs !== undefined;
    if (wasReady && Date.now() - readyAtMs >= this.timings.stableConnectionMs) this.failedAttempts = 0;

    if (code === CloseCode.TokenExpired || socket.upgradeStatus === 401) {
      if (socket.staticToken) {
        const expired = code === CloseCode.TokenExpired;
        const error = new ChatConnectionError(
          expired ? 'token_expired' : 'unauthenticated',
          expired ? 'the token expired; pass a token function so the SDK can refresh it' : 'the gateway refused the token',
          { closeCode: code },
        );
        return { action: 'stop', error };
      }
      // A token function gives a fresh token on the next attempt; right away if this socket had worked.
      return { action: 'retry', immediately: wasReady && code === CloseCode.TokenExpired };
    }
    // Every other failure tries the next replica; 1001 (shutdown) right away.
    this.urlIndex += 1;
    return { action: 'retry', immediately: wasReady && code === CloseCode.GoingAway };
  }
}
