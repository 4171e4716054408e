/** WebSocket close codes the gateway uses (CONTRACT.md, "Close codes"). */
export const CloseCode = {
  /** Shutdown: reconnect elsewhere. */
  GoingAway: 1001,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  /** Overloaded, or the client reads too slowly: resume later. */
  TryAgainLater: 1013,
  /** Token expired or no longer valid: refresh with an `auth` frame before `exp` to avoid it. */
  TokenExpired: 4401,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
