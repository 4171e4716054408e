import type { ErrorCode } from '@chat/contracts';
import type { Access, ErrorStatus, RouteDoc } from '../routes/route-definition.js';

/**
 * Which error statuses a route gives and why. Most follow from how the route is guarded (its
 * access) and whether it parses a body; a route adds or words its own in `errors`.
 */

export const BAD_BODY = 'The body is not JSON (`invalid_json`), or has wrong types, unknown or missing fields (`invalid_request`).';

const UNAVAILABLE = 'Redis is unreachable. Nothing was half-written; retry later.';

const NEEDS_TOKEN: Partial<Record<ErrorStatus, string>> = {
  401: 'The bearer token is missing, malformed, expired or wrongly signed.',
  429: 'Too many requests by this user in the window (RATE_LIMIT_PER_USER); `Retry-After` says when to try again.',
  503: UNAVAILABLE,
};

const BY_ACCESS: Record<Access, Partial<Record<ErrorStatus, string>>> = {
  public: {},
  'sign-in': {
    404: 'This api only accepts tokens from an external identity provider (it has no signing key): sign in there.',
    429: 'Too many register/login requests from this client address in the window (RATE_LIMIT_AUTH_PER_IP); `Retry-After` says when to try again.',
    503: UNAVAILABLE,
  },
  user: NEEDS_TOKEN,
  'user-counted-in-script': NEEDS_TOKEN,
};

const WITH_BODY: Partial<Record<ErrorStatus, string>> = {
  400: BAD_BODY,
  413: 'The body is larger than the configured limit (BODY_LIMIT_BYTES, 64 KiB by default).',
  415: 'The body is not sent as `application/json`.',
};

/** Every error status of the route with its reason, in ascending order. */
export function errorStatuses(route: RouteDoc): [ErrorStatus, string][] {
  const reasons = { ...BY_ACCESS[route.access], ...(route.body ? WITH_BODY : {}), ...route.errors };
  return (Object.entries(reasons) as unknown as [ErrorStatus, string][])
    .map(([status, reason]): [ErrorStatus, string] => [Number(status) as ErrorStatus, reason])
    .sort(([a], [b]) => a - b);
}

const CODES_BY_STATUS: Record<ErrorStatus, readonly ErrorCode[]> = {
  400: ['invalid_request'],
  401: ['unauthenticated'],
  403: ['forbidden'],
  404: ['not_found'],
  409: ['conflict'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  429: ['rate_limited'],
  503: ['unavailable'],
};

/** The codes a status can carry on this route: `invalid_json` only where a body is parsed. */
export function errorCodes(route: RouteDoc, status: ErrorStatus): readonly ErrorCode[] {
  if (status === 400 && route.body) return ['invalid_json', 'invalid_request'];
  return CODES_BY_STATUS[status];
}

export const EXAMPLE_MESSAGES: Record<ErrorCode, string> = {
  invalid_json: 'request body is not valid JSON',
  invalid_request: 'invalid body: title: Too small: expected string to have >=1 characters',
  unauthenticated: 'missing bearer token',
  forbidden: 'not allowed',
  not_found: 'not found',
  conflict: 'username is taken',
  payload_too_large: 'request body is too large',
  unsupported_media_type: 'send the body as application/json',
  rate_limited: 'too many requests, retry later',
  unavailable: 'storage is unavailable, try again shortly',
  internal: 'internal error',
};
