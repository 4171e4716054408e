/** Every error the SDK raises or emits is a ChatClientError, so one `instanceof` separates them from the rest. */
export class ChatClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** The api answered with a non-2xx status (or a 2xx body that is not what the contract says). */
export class ChatApiError extends ChatClientError {
  /** HTTP status; 0 when a 2xx answer could not be read. */
  readonly status: number;
  /**
   * The contract's error slug, an `ErrorCode` (`unauthenticated`, `not_found`, `invalid_request` …);
   * typed as a string because a newer server may send a code this SDK does not know yet.
   */
  readonly code: string;
  /** From `Retry-After` on a 429 or 503, in seconds. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The request did not get an answer: connection refused or reset, DNS, timeout, abort. */
export class ChatNetworkError extends ChatClientError {
  /** True when the SDK's own timeout ended the request. */
  readonly timedOut: boolean;

  constructor(message: string, options: { cause?: unknown; timedOut?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.timedOut = options.timedOut ?? false;
  }
}

/**
 * Something on the live connection: an `error` frame from the gateway (its code and message), a
 * refused upgrade, a token that cannot be refreshed, a connection that timed out.
 */
export class ChatConnectionError extends ChatClientError {
  /** The gateway's code for an `error` frame (an `ErrorCode`), else one of the SDK's (see README). */
  readonly code: string;
  /** The WebSocket close code, when the error ended a socket. */
  readonly closeCode: number | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; closeCode?: number } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.closeCode = options.closeCode;
  }
}
