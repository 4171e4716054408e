import { z } from 'zod';
import { commonEnv, envPort, jwtVerifyEnv, loadConfig, positiveInt, requireJwtKey } from '@chat/config';

const DEFAULT_LOGIN_FAILURES_PER_USERNAME_IP = 10;

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
    /** Length of a rate-limit window, in seconds. */
    RATE_LIMIT_WINDOW_S: positiveInt(60),
    /** Requests per window per authenticated user. */
    RATE_LIMIT_PER_USER: positiveInt(1200),
    /** register/login requests per window per client address (bounds the scrypt work one address can ask for). */
    RATE_LIMIT_AUTH_PER_IP: positiveInt(300),
    /**
     * Failed logins in a row for one username from one client address (a success resets it); 10
     * when neither this nor RATE_LIMIT_AUTH_PER_USERNAME is set.
     */
    RATE_LIMIT_LOGIN_FAILURES_PER_USERNAME_IP: z.coerce.number().int().positive().optional(),
    /**
     * The former name of RATE_LIMIT_LOGIN_FAILURES_PER_USERNAME_IP, still read when that is unset.
     * It used to count every attempt for a username from anywhere, which let a stranger lock its
     * owner out; it now means the per-(username, address) failures.
     */
    RATE_LIMIT_AUTH_PER_USERNAME: z.coerce.number().int().positive().optional(),
    /** Failed logins from one client address, whatever the username. */
    RATE_LIMIT_LOGIN_FAILURES_PER_IP: positiveInt(100),
    /** Length of a login-failure window, in seconds, from an address's (or pair's) first failure. */
    RATE_LIMIT_LOGIN_FAILURE_WINDOW_S: positiveInt(3600),
    /**
     * Whose X-Forwarded-For to believe for the client address (express's "trust proxy"):
     * `false` (the socket's address), `true`, a hop count, or addresses/subnets such as
     * `loopback` or `10.0.0.0/8`. Set it when the api runs behind the edge.
     */
    TRUST_PROXY: z
      .string()
      .default('false')
      .transform((value): boolean | number | string => {
        if (value === 'false' || value === '') return false;
        if (value === 'true') return true;
        return /^\d+$/.test(value) ? Number(value) : value;
      }),
    /** Browser origins allowed by CORS, comma-separated (e.g. https://chat.example.com); empty = none. */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((value) => value.split(',').map((origin) => origin.trim()).filter((origin) => origin.length > 0))
      .pipe(z.array(z.string().url())),
    /** Milliseconds a delivery job may take to enqueue before the outbox sweeper is left to do it. */
    ENQUEUE_TIMEOUT_MS: positiveInt(1000),
    /**
     * Messages accepted and not yet published (the delivery backlog) beyond which new messages are
     * refused with 503 `unavailable` and Retry-After, instead of being accepted and delivered late.
     * The default is about 0.5 s of what the reference machine delivers (~1800 msg/s, README):
     * a burst is absorbed, a sustained overload is shed before latency reaches seconds.
     */
    MAX_DELIVERY_BACKLOG: positiveInt(1000),
    /**
     * How late, in milliseconds, the api's event loop may run (the largest delay in the last
     * 100 ms, or the current one) before new messages are refused with 503 `unavailable` and
     * Retry-After: past that the api has stalled (starved of CPU, a long task or GC) and the posts
     * read now have waited that long in its sockets. 200, not the 50 ms delivery target: measured
     * past saturation (README, Overload), a 50 ms bound refused a sixth of the posts at loads the
     * stack still carried, and did not lower the latency of the rest, which waited in the client's
     * own queue. 0 turns the guard off (the delay is still measured).
     */
    MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(200),
  })
  .superRefine(requireJwtKey)
  .transform(({ RATE_LIMIT_AUTH_PER_USERNAME: formerName, RATE_LIMIT_LOGIN_FAILURES_PER_USERNAME_IP: current, ...config }) => ({
    ...config,
    RATE_LIMIT_LOGIN_FAILURES_PER_USERNAME_IP: current ?? formerName ?? DEFAULT_LOGIN_FAILURES_PER_USERNAME_IP,
  }));

export type ApiConfig = z.infer<typeof apiEnvSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return loadConfig(apiEnvSchema, env);
}
