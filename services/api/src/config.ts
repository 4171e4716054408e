import { z } from 'zod';
import { commonEnv, envPort, jwtVerifyEnv, loadConfig, positiveInt } from '@chat/config';

export const apiEnvSchema = z
  .object({
    ...commonEnv,
    ...jwtVerifyEnv,
    /** Interface and port the api listens on. */
    API_HOST: z.string().default('127.0.0.1'),
    API_PORT: envPort(3000),
    /** PEM private key for RS256/ES256 when this api issues the tokens itself. */
    JWT_PRIVATE_KEY: z.string().optional(),
    /** Lifetime of tokens issued at register/login, in seconds. */
    JWT_TTL_S: positiveInt(3600),
    /** scrypt cost N for password hashes (a power of two). */
    PASSWORD_HASH_COST: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1 << 20)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
      .default(16384),
    /** Largest request body accepted, in bytes (413 beyond). */
    BODY_LIMIT_BYTES: positiveInt(64 * 1024),
    /** Messages kept per conversation (the oldest go first); 0 keeps everything. */
    HISTORY_LIMIT: z.coerce.number().int().min(0).default(0),
    /** Milliseconds a delivery job may take to enqueue before the outbox sweeper is left to do it. */
    ENQUEUE_TIMEOUT_MS: positiveInt(1000),
  })
  .superRefine((env, ctx) => {
    if (env.JWT_ALGORITHM === 'HS256' && !env.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'required (at least 32 bytes) for HS256' });
    }
    if (env.JWT_ALGORITHM !== 'HS256' && !env.JWT_PUBLIC_KEY) {
      ctx.addIssue({ code: 'custom', path: ['JWT_PUBLIC_KEY'], message: `required for ${env.JWT_ALGORITHM}` });
    }
  });

export type ApiConfig = z.infer<typeof apiEnvSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return loadConfig(apiEnvSchema, env);
}
