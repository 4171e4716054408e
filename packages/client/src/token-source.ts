/**
 * A bearer token, or a function that returns the current one (sync or async). A function is
 * called for every request and every connection attempt, and again before the live connection's
 * token expires, so it should return a cached token while that one is still fresh.
 */
export type TokenSource = string | (() => string | Promise<string>);

export async function resolveToken(source: TokenSource): Promise<string> {
  return typeof source === 'string' ? source : await source();
}

function decodeBase64Url(segment: string): string {
  const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * The `exp` of a JWT as epoch milliseconds, read without verifying the signature (the server
 * verifies; the client only needs to know when to refresh). Undefined when the token is not a
 * JWT or has no numeric `exp`.
 */
export function tokenExpiresAtMs(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined || payload.length === 0) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(decodeBase64Url(payload));
  } catch {
    // Not base64url JSON: an opaque token, whose expiry the client cannot know.
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null) return undefined;
  const exp = (claims as { exp?: unknown }).exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}
