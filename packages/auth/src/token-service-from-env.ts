import { jwksFromFile, jwksFromUrl, type KeySource } from './jwks-key-source.js';
import { createTokenService, type JwtAlgorithm, type TokenService } from './token-service.js';

/** The JWT settings as the services' config schemas read them (config/fragments.ts). */
export interface JwtEnv {
  JWT_ALGORITHM: JwtAlgorithm;
  JWT_SECRET?: string | undefined;
  JWT_PUBLIC_KEY?: string | undefined;
  JWT_PRIVATE_KEY?: string | undefined;
  JWT_JWKS_FILE?: string | undefined;
  JWT_JWKS_URL?: string | undefined;
  JWT_JWKS_REFRESH_S: number;
  JWT_ISSUER?: string | undefined;
  JWT_AUDIENCE?: string | undefined;
  JWT_CLOCK_TOLERANCE_S: number;
  JWT_TTL_S?: number | undefined;
}

export interface ConfiguredTokens {
  tokens: TokenService;
  /** Loads JWKS keys when configured; call before serving. */
  start(): Promise<void>;
  stop(): void;
}

export function tokensFromEnv(env: JwtEnv, onKeyError: (error: unknown) => void): ConfiguredTokens {
  let keySource: KeySource | undefined;
  if (env.JWT_ALGORITHM !== 'HS256' && !env.JWT_PUBLIC_KEY) {
    if (env.JWT_JWKS_FILE) keySource = jwksFromFile(env.JWT_JWKS_FILE);
    else if (env.JWT_JWKS_URL) keySource = jwksFromUrl(env.JWT_JWKS_URL, env.JWT_JWKS_REFRESH_S * 1000, onKeyError);
  }
  const tokens = createTokenService({
    algorithm: env.JWT_ALGORITHM,
    secret: env.JWT_SECRET,
    publicKey: env.JWT_PUBLIC_KEY,
    privateKey: env.JWT_PRIVATE_KEY,
    keySource,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE_S,
    ttlSeconds: env.JWT_TTL_S ?? 0,
  });
  return {
    tokens,
    start: async () => keySource?.start(),
    stop: () => keySource?.stop(),
  };
}
