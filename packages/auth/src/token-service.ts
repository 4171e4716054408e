import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { KeySource } from './jwks-key-source.js';
import { UnauthenticatedError, isUsername } from '@chat/contracts';

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

export interface TokenSettings {
  algorithm: JwtAlgorithm;
  /** HS256 shared secret (signs and verifies). */
  secret?: string;
  /** RS256/ES256 PEM public key (verifies). */
  publicKey?: string;
  /** RS256/ES256 keys by `kid` (a JWKS), instead of one PEM. */
  keySource?: KeySource;
  /** RS256/ES256 PEM private key (signs); absent when tokens come from an external provider. */
  privateKey?: string;
  issuer?: string;
  audience?: string;
  clockToleranceSeconds: number;
  /** Lifetime of the tokens this service issues. */
  ttlSeconds: number;
}

export interface VerifiedToken {
  username: string;
  /** Expiry, in epoch milliseconds. */
  expiresAtMs: number;
}

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

export interface TokenService {
  /** False when this process holds no signing key (it only verifies a provider's tokens). */
  readonly canSign: boolean;
  sign(username: string): IssuedToken;
  verify(token: string): VerifiedToken;
}

/**
 * The algorithm is pinned by configuration: a token whose header names another algorithm (`none`,
 * or HS256 signed with a public key) is refused before its signature is looked at.
 */
export function createTokenService(settings: TokenSettings): TokenService {
  const symmetric = settings.algorithm === 'HS256';
  // Keys are parsed once, here. Handed a string, jsonwebtoken has OpenSSL try it as a PEM key on
  // every call, which made each HS256 verify cost ~480 µs instead of ~20 µs (measured by the
  // benchmark's profiles: half of the api's CPU).
  const secretKey = settings.secret === undefined ? undefined : createSecretKey(Buffer.from(settings.secret, 'utf8'));
  const fixedKey = symmetric ? secretKey : settings.publicKey === undefined ? undefined : createPublicKey(settings.publicKey);
  const signKey = symmetric ? secretKey : settings.privateKey === undefined ? undefined : createPrivateKey(settings.privateKey);
  if (!fixedKey && (symmetric || !settings.keySource)) {
    throw new Error(symmetric ? 'JWT_SECRET is required for HS256' : `a public key or a JWKS is required for ${settings.algorithm}`);
  }

  function verifyKeyFor(token: string): KeyObject {
    if (fixedKey) return fixedKey;
    const decoded = jwt.decode(token, { complete: true });
    const key = decoded ? settings.keySource?.keyFor(decoded.header.kid) : undefined;
    if (!key) throw new UnauthenticatedError('token signed with an unknown key');
    return key;
  }

  return {
    canSign: signKey !== undefined,

    sign(username) {
      if (!signKey) throw new Error('this process has no JWT signing key');
      const nowS = Math.floor(Date.now() / 1000);
      const exp = nowS + settings.ttlSeconds;
      const token = jwt.sign({ sub: username, iat: nowS, exp }, signKey, {
        algorithm: settings.algorithm,
        ...(settings.issuer ? { issuer: settings.issuer } : {}),
        ...(settings.audience ? { audience: settings.audience } : {}),
      });
      return { token, expiresAt: new Date(exp * 1000).toISOString() };
    },

    verify(token) {
      let payload: string | jwt.JwtPayload;
      try {
        payload = jwt.verify(token, verifyKeyFor(token), {
          algorithms: [settings.algorithm],
          clockTolerance: settings.clockToleranceSeconds,
          ...(settings.issuer ? { issuer: settings.issuer } : {}),
          ...(settings.audience ? { audience: settings.audience } : {}),
        });
      } catch (error) {
        if (error instanceof UnauthenticatedError) throw error;
        const expired = error instanceof jwt.TokenExpiredError;
        throw new UnauthenticatedError(expired ? 'token expired' : 'invalid token');
      }
      if (typeof payload === 'string' || typeof payload.exp !== 'number') {
        throw new UnauthenticatedError('token must carry exp');
      }
      if (!isUsername(payload.sub)) throw new UnauthenticatedError('token subject is not a valid username');
      return { username: payload.sub, expiresAtMs: payload.exp * 1000 };
    },
  };
}

/** Reads the bearer token from an Authorization header value. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
  return match?.[1];
}
