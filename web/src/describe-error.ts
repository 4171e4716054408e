import { ChatApiError, ChatNetworkError } from '@chat/client';

/** What to tell the person about a failed request: the api's own message where there is one. */
export function describeError(error: unknown): string {
  if (error instanceof ChatApiError) {
    if (error.retryAfterSeconds !== undefined && error.status === 429) {
      return `${error.message} (try again in ${Math.max(1, Math.ceil(error.retryAfterSeconds))} s)`;
    }
    return error.message;
  }
  if (error instanceof ChatNetworkError) {
    return error.timedOut
      ? 'The server did not answer in time. Try again.'
      : 'Could not reach the server. Check your connection and try again.';
  }
  return error instanceof Error ? error.message : String(error);
}

/** True when the token is no longer accepted: the page must sign out. */
export function isUnauthenticated(error: unknown): boolean {
  return error instanceof ChatApiError && error.status === 401;
}
