import type { TokenSource } from './token-source.js';
import type { Message } from './types.js';
import type { WebSocketConstructor } from './websocket-like.js';

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
  /** Restores state saved from `revsSeen()` (1.1), beside `cursors`. */
  revs?: Record<string, number>;
}

/** The timing options' defaults, in ms (the option docs above state them for users). */
const DEFAULT_TIMINGS = {
  minReconnectDelayMs: 500,
  maxReconnectDelayMs: 30_000,
  stableConnectionMs: 10_000,
  connectTimeoutMs: 10_000,
  gapTimeoutMs: 2000,
  heartbeatIntervalMs: 25_000,
  heartbeatTimeoutMs: 10_000,
  tokenRefreshMarginMs: 30_000,
} as const;

export type ConnectionTimings = { readonly [Name in keyof typeof DEFAULT_TIMINGS]: number };

/** The options checked, with every default filled in. */
export interface ConnectionSettings extends ConnectionTimings {
  readonly urls: readonly string[];
  readonly WebSocket: WebSocketConstructor;
  readonly tokenIn: 'query' | 'header';
}

function checkedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new TypeError(`ChatConnection: not a ws:// or wss:// URL: ${url}`);
  return parsed.toString();
}

/** Checks the options a ChatConnection is built with (throwing a TypeError) and applies the defaults. */
export function resolveConnectionSettings(options: ChatConnectionOptions): ConnectionSettings {
  const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
  if (urls.length === 0) throw new TypeError('ChatConnection: give at least one url');
  const checkedUrls = urls.map(checkedUrl);
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocketImpl) {
    throw new TypeError('ChatConnection: no global WebSocket here; pass the `WebSocket` option (in Node: `import { WebSocket } from "ws"`)');
  }
  const timings = Object.fromEntries(
    Object.entries(DEFAULT_TIMINGS).map(([name, fallback]) => [name, options[name as keyof ConnectionTimings] ?? fallback]),
  ) as ConnectionTimings;
  return { ...timings, urls: checkedUrls, WebSocket: WebSocketImpl, tokenIn: options.tokenIn ?? 'query' };
}
