import type { WebSocketConstructor, WebSocketLike } from './websocket-like.js';

/**
 * Opens a WebSocket that presents the token as the gateway accepts it: in the `token` query
 * parameter (works everywhere), or as `Authorization: Bearer` (`ws` in Node only; browsers
 * cannot set headers on a WebSocket). Throws what the constructor throws.
 */
export function openSocket(WebSocketImpl: WebSocketConstructor, url: string, token: string, tokenIn: 'query' | 'header'): WebSocketLike {
  if (tokenIn === 'header') return new WebSocketImpl(url, undefined, { headers: { authorization: `Bearer ${token}` } });
  const withToken = new URL(url);
  withToken.searchParams.set('token', token);
  return new WebSocketImpl(withToken.toString());
}
