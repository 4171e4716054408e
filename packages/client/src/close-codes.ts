/** WebSocket close codes the gateway uses (CONTRACT.md, "Close codes"), and the SDK's own. */
export const CloseCode = {
  /** The SDK closed the socket on purpose (close()). */
  Normal: 1000,
  /** The replica is shutting down: reconnect elsewhere at once. */
  GoingAway: 1001,
  /** No close frame: the connection dropped or never opened. */
  Abnormal: 1006,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  /** Overloaded, or the client read too slowly: reconnect with backoff and resume. */
  TryAgainLater: 1013,
  /** The token expired or is no longer valid: reconnect with a fresh one. */
  TokenExpired: 4401,
  /** The SDK gave up on a socket: no `ready` in time, or no frame after a ping (half-open). */
  ClientTimeout: 4408,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
