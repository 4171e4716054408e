import { UnauthenticatedError } from '@chat/contracts';
import type { TokenService, VerifiedToken } from './token-service.js';

export interface VerifiedTokenCacheSettings {
  /** Tokens remembered at most; the oldest is forgotten first. */
  maxEntries: number;
  /** How long a verification is trusted before the token is verified again. */
  maxAgeMs: number;
  clockToleranceSeconds: number;
  now?: () => number;
}

interface Remembered extends VerifiedToken {
  verifiedUntilMs: number;
}

/**
 * Remembers tokens that verified, by their exact text, so a client sending the same bearer token
 * on every request costs one map lookup instead of a signature check and two JSON decodes each
 * time (about 4% of the api's CPU under the chat benchmark). Only a byte-identical token, signature
 * included, can hit. Expiry is still checked on every call, with the same tolerance as a full
 * verify; `maxAgeMs` bounds how long a token stays accepted after its key leaves a JWKS.
 */
export function withVerifiedTokenCache(service: TokenService, settings: VerifiedTokenCacheSettings): TokenService {
  const now = settings.now ?? Date.now;
  const toleranceMs = settings.clockToleranceSeconds * 1000;
  const remembered = new Map<string, Remembered>();

  return {
    get canSign() {
      return service.canSign;
    },
    sign: (username) => service.sign(username),
    verify(token) {
      const at = now();
      const hit = remembered.get(token);
      if (hit) {
        if (at >= hit.expiresAtMs + toleranceMs) {
          remembered.delete(token);
          throw new UnauthenticatedError('token expired');
        }
        if (at < hit.verifiedUntilMs) return { username: hit.username, expiresAtMs: hit.expiresAtMs };
        remembered.delete(token);
      }
      const verified = service.verify(token);
      if (remembered.size >= settings.maxEntries) {
        const oldest = remembered.keys().next();
        if (!oldest.done) remembered.delete(oldest.value);
      }
      remembered.set(token, { ...verified, verifiedUntilMs: at + settings.maxAgeMs });
      return verified;
    },
  };
}
