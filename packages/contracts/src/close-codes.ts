/**
 * Every WebSocket close code of the protocol, the gateway's and the SDK's, in one table. No zod and
 * no imports: the SDK ships it (`@chat/contracts/close-codes`).
 */
export const CloseCode = {
  /** Sent by the SDK when it closes the socket on purpose (close()). */
  Normal: 1000,
  /** Gateway: the replica is shutting down; reconnect elsewhere at once. */
  GoingAway: 1001,
  /** Never sent: a socket that ended without a close frame (dropped, or never opened). */
  Abnormal: 1006,
  /** Gateway: the client broke a rule (too many frames). */
  PolicyViolation: 1008,
  /** Gateway: a frame over the size limit. */
  MessageTooBig: 1009,
  /** Gateway: overloaded, or the client reads too slowly; reconnect with backoff and resume. */
  TryAgainLater: 1013,
  /** Gateway: the token expired or is no longer valid; refresh with an `auth` frame before `exp` to avoid it. */
  TokenExpired: 4401,
  /** Sent by the SDK when it gives up on a socket: no `ready` in time, or no frame after a ping (half-open). */
  ClientTimeout: 4408,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
