import { z } from 'zod';

/**
 * Schema pieces that several services share. Each entry is keyed by its environment variable, with
 * the default and meaning next to it; services compose these with their own settings.
 */

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const envPort = port;

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const envBoolean = booleanFlag;

/**
 * Set by a supervisor that restarts services (`npm start`): every service validates it with its
 * configuration at start-up, and the metrics registry shows it (`chat_service_restarts`).
 */
export const supervisedEnv = {
  /** Times the supervisor restarted this service before starting this instance; 0 when unsupervised. */
  SERVICE_RESTARTS: z.coerce.number().int().min(0).default(0),
};

/** The supervised setting alone, for the metrics registry, which reads it without a service's config. */
export const supervisedEnvSchema = z.object(supervisedEnv);

export const commonEnv = {
  ...supervisedEnv,
  /** Redis connection URL. */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key and channel, so several stacks (or tests) can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,32}$/, 'letters, digits, _ . - only')
    .default('chat'),
  /** pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `production` turns on the production guards (a missing JWT secret stops the service). */
  NODE_ENV: z.string().default('development'),
  /** How long shutdown may take before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
};

export const jwtVerifyEnv = {
  /** HS256 (shared secret) by default; RS256/ES256 verify with JWT_PUBLIC_KEY. */
  JWT_ALGORITHM: z.enum(['HS256', 'RS256', 'ES256']).default('HS256'),
  /** Shared secret for HS256, at least 32 bytes. */
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 bytes').optional(),
  /** PEM public key for RS256/ES256 (tokens from an external identity provider). */
  JWT_PUBLIC_KEY: z.string().optional(),
  /** A JWKS file (JSON) with the provider's public keys, chosen by the token's `kid`. */
  JWT_JWKS_FILE: z.string().optional(),
  /** A JWKS URL, fetched at start and every JWT_JWKS_REFRESH_S (and on an unknown `kid`). */
  JWT_JWKS_URL: z.string().url().optional(),
  JWT_JWKS_REFRESH_S: z.coerce.number().int().min(10).default(600),
  /** Expected `iss`, when set. */
  JWT_ISSUER: z.string().optional(),
  /** Expected `aud`, when set. */
  JWT_AUDIENCE: z.string().optional(),
  /** Clock skew tolerated on `exp`/`nbf`, in seconds. */
  JWT_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(5),
};

interface JwtKeyEnv {
  JWT_ALGORITHM: 'HS256' | 'RS256' | 'ES256';
  JWT_SECRET?: string | undefined;
  JWT_PUBLIC_KEY?: string | undefined;
  JWT_JWKS_FILE?: string | undefined;
  JWT_JWKS_URL?: string | undefined;
}

/** Every service that verifies tokens needs a key for its algorithm: a secret, a PEM or a JWKS. */
export function requireJwtKey(env: JwtKeyEnv, ctx: z.RefinementCtx): void {
  if (env.JWT_ALGORITHM === 'HS256' && !env.JWT_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'required (at least 32 bytes) for HS256' });
  }
  if (env.JWT_ALGORITHM !== 'HS256' && !env.JWT_PUBLIC_KEY && !env.JWT_JWKS_FILE && !env.JWT_JWKS_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['JWT_PUBLIC_KEY'],
      message: `${env.JWT_ALGORITHM} needs JWT_PUBLIC_KEY, JWT_JWKS_FILE or JWT_JWKS_URL`,
    });
  }
}
