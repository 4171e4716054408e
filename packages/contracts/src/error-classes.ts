import type { ErrorCode } from './error-codes.js';
import type { ErrorBody } from './response-schemas.js';

/**
 * Errors a user can cause, as typed values. Packages throw them; each service maps them to its
 * transport in one place (the api's error middleware, the gateway's error frame).
 */

export abstract class ChatError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly status: number;

  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export class InvalidRequestError extends ChatError {
  readonly code = 'invalid_request';
  readonly status = 400;
}

export class InvalidJsonError extends ChatError {
  readonly code = 'invalid_json';
  readonly status = 400;
}

export class UnauthenticatedError extends ChatError {
  readonly code = 'unauthenticated';
  readonly status = 401;
}

export class ForbiddenError extends ChatError {
  readonly code = 'forbidden';
  readonly status = 403;
}

export class NotFoundError extends ChatError {
  readonly code = 'not_found';
  readonly status = 404;
}

export class ConflictError extends ChatError {
  readonly code = 'conflict';
  readonly status = 409;
}

export class PayloadTooLargeError extends ChatError {
  readonly code = 'payload_too_large';
  readonly status = 413;
}

export class UnsupportedMediaTypeError extends ChatError {
  readonly code = 'unsupported_media_type';
  readonly status = 415;
}

export class RateLimitedError extends ChatError {
  readonly code = 'rate_limited';
  readonly status = 429;

  constructor(
    message: string,
    /** Seconds until a retry can succeed; sent as Retry-After. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Redis (or another dependency) is unreachable, or the api sheds load. Nothing was half-written. */
export class UnavailableError extends ChatError {
  readonly code = 'unavailable';
  readonly status = 503;

  constructor(
    message: string,
    /** Seconds after which a retry is likely to succeed, when known; sent as Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
