import { ChatConnectionError } from './errors.js';
import { resolveToken, tokenExpiresAtMs, type TokenSource } from './token-source.js';

/** setTimeout's ceiling: a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const REFRESH_RETRY_MS = 5000;
const REFRESH_RETRY_MIN_MS = 250;

export interface TokenRefresherDeps {
  /** The token source now (the app may replace it with `setToken`). */
  tokenSource(): TokenSource;
  /** Refresh this long before `exp`, at most half the token's remaining life. */
  marginMs: number;
  /** False once the socket is no longer the connection's current one: what comes late is dropped. */
  isCurrent(): boolean;
  /** Hands the fresh token to the gateway (an `auth` frame). */
  sendToken(token: string): void;
  onError(error: ChatConnectionError): void;
}

/**
 * One socket's token: a margin before its `exp`, gets a fresh one from the token function and
 * sends it, again and again. A static token, or one whose expiry cannot be read, is never refreshed.
 */
export class TokenRefresher {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly deps: TokenRefresherDeps,
    /** The `exp` of the token the socket was opened with, in epoch ms. */
    private expiresAtMs: number | undefined,
  ) {}

  /** Schedules the next refresh: after `delayMs`, or by default a margin before the token expires. */
  start(delayMs?: number): void {
    this.stop();
    if (typeof this.deps.tokenSource() === 'string' || this.expiresAtMs === undefined) return;
    let delay = delayMs;
    if (delay === undefined) {
      const remaining = this.expiresAtMs - Date.now();
      delay = remaining - Math.min(this.deps.marginMs, remaining / 2);
    }
    this.timer = setTimeout(() => void this.refresh(), Math.min(Math.max(0, delay), MAX_TIMER_MS));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async refresh(): Promise<void> {
    this.timer = undefined;
    let token: string;
    try {
      token = await resolveToken(this.deps.tokenSource());
    } catch (error) {
      if (!this.deps.isCurrent()) return;
      this.deps.onError(new ChatConnectionError('token_refresh_failed', 'the token function failed; retrying', { cause: error }));
      this.retry();
      return;
    }
    if (!this.deps.isCurrent()) return;
    const expiresAtMs = tokenExpiresAtMs(token);
    if (expiresAtMs === undefined || this.expiresAtMs === undefined || expiresAtMs <= this.expiresAtMs) {
      // Not fresher than the current one (a cache that renews late): ask again a little later.
      // If no fresher token comes, the gateway closes with 4401 and the reconnect gets one.
      this.retry();
      return;
    }
    this.deps.sendToken(token);
    this.expiresAtMs = expiresAtMs;
    this.start();
  }

  private retry(): void {
    if (this.expiresAtMs === undefined) return;
    const delay = Math.min(REFRESH_RETRY_MS, (this.expiresAtMs - Date.now()) / 2);
    if (delay >= REFRESH_RETRY_MIN_MS) this.start(delay);
  }
}
