import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  ChatError,
  InvalidJsonError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  UnavailableError,
  type ErrorBody,
} from '@chat/contracts';
import { isRedisUnavailable } from '@chat/store';

/** Errors from body-parser carry a `type`; these are the ones a client causes. */
function fromBodyParser(error: unknown): ChatError | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch ((error as { type: unknown }).type) {
    case 'entity.too.large':
      return new PayloadTooLargeError('request body is too large');
    case 'entity.parse.failed':
      return new InvalidJsonError('request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new InvalidJsonError('request body must be UTF-8 JSON');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new InvalidJsonError('request body could not be read');
    default:
      return undefined;
  }
}

/** Client errors raised by express itself (a malformed %-escape in a path parameter, say). */
function fromExpress(error: unknown): ChatError | undefined {
  if (error instanceof URIError) return new InvalidRequestError('malformed URL encoding');
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  const status = (error as { status: unknown }).status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return status === 404 ? new NotFoundError('no such route') : new InvalidRequestError('malformed request');
}

/** The one place that turns errors into the contract's status and body. */
export const errorMiddleware: ErrorRequestHandler = (error, req, res, _next) => {
  let known = error instanceof ChatError ? error : (fromBodyParser(error) ?? fromExpress(error));
  if (!known && isRedisUnavailable(error)) known = new UnavailableError('storage is unavailable, try again shortly');
  if (known) {
    const retryAfter = known instanceof RateLimitedError || known instanceof UnavailableError ? known.retryAfterSeconds : undefined;
    if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
    // A 503 with Retry-After is load being shed (counted in metrics): a line per refusal would
    // add work exactly when there is too much.
    if (known.status >= 500 && retryAfter === undefined) req.log.warn({ code: known.code }, known.message);
    res.status(known.status).json(known.toBody());
    return;
  }
  req.log.error({ err: error }, 'unhandled error');
  const body: ErrorBody = { error: { code: 'internal', message: 'internal error' } };
  res.status(500).json(body);
};

export const notFoundRoute: RequestHandler = (_req, _res, next) => {
  next(new NotFoundError('no such route'));
};
