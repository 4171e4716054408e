/**
 * The WebSocket surface the SDK uses, met by the browsers' WebSocket and by the `ws` package's
 * (which also implements addEventListener). Nothing here imports either.
 */

/** What the SDK reads from open, message, close and error events. */
export interface SocketEventLike {
  readonly type: string;
  /** message: the frame (text frames are strings in both implementations). */
  readonly data?: unknown;
  /** close */
  readonly code?: number;
  readonly reason?: string;
  /** error (ws only; a browser's error event says nothing). */
  readonly message?: string;
}

export type SocketEventType = 'open' | 'message' | 'close' | 'error';

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener?(type: SocketEventType, listener: (event: SocketEventLike) => void): void;
}

/**
 * A WebSocket constructor: the browser's, or `WebSocket` from `ws` in Node (which also accepts
 * `options.headers`, used when the token goes in a header).
 */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => WebSocketLike;

export const SOCKET_OPEN = 1;

export interface SocketHandlers {
  open(): void;
  message(data: unknown): void;
  close(code: number, reason: string): void;
  error(message: string | undefined): void;
}

type OnHandlerSocket = Partial<Record<`on${SocketEventType}`, ((event: SocketEventLike) => void) | null>>;

/** Listens with addEventListener where the socket has it, else with the onopen … properties. */
export function listenToSocket(socket: WebSocketLike, handlers: SocketHandlers): void {
  const on: Record<SocketEventType, (event: SocketEventLike) => void> = {
    open: () => handlers.open(),
    message: (event) => handlers.message(event.data),
    close: (event) => handlers.close(typeof event.code === 'number' ? event.code : 1006, typeof event.reason === 'string' ? event.reason : ''),
    error: (event) => handlers.error(typeof event.message === 'string' ? event.message : undefined),
  };
  for (const type of ['open', 'message', 'close', 'error'] as const) {
    if (typeof socket.addEventListener === 'function') socket.addEventListener(type, on[type]);
    else (socket as WebSocketLike & OnHandlerSocket)[`on${type}`] = on[type];
  }
}

// Compile-time proof that the browsers' WebSocket fits WebSocketConstructor (the tests pass the
// `ws` one); a type only, nothing is emitted.
type Holds<T extends true> = T;
type BrowserWebSocketFits = Holds<typeof globalThis.WebSocket extends WebSocketConstructor ? true : false>;
