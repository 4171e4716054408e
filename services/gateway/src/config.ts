import { z } from 'zod';
import { commonEnv, envPort, jwtVerifyEnv, loadConfig, positiveInt, requireJwtKey } from '@chat/config';

const gatewayEnvSchema = z
  .object({
    ...commonEnv,
    ...jwtVerifyEnv,
    /** Interface and port this replica listens on for /ws and its ops routes. */
    GATEWAY_HOST: z.string().default('127.0.0.1'),
    GATEWAY_PORT: envPort(8081),
    /** Largest client frame, in bytes; a larger one closes the socket with 1009. */
    MAX_FRAME_BYTES: positiveInt(16 * 1024),
    /** A socket whose unsent backlog passes this many bytes is closed with 1013 (it resumes later). */
    SEND_BUFFER_LIMIT_BYTES: positiveInt(4 * 1024 * 1024),
    /** Protocol ping interval; a socket that missed the previous pong is terminated. */
    HEARTBEAT_INTERVAL_MS: positiveInt(30_000),
    /** How long an out-of-order message waits for the missing ones before they are read from the store. */
    GAP_WAIT_MS: positiveInt(30),
    /**
     * After `ready`, live messages wait this long for the client's first frame, so a `resume`
     * sent as the socket opens is in place before them. The first frame ends the wait at once.
     */
    RESUME_WINDOW_MS: z.coerce.number().int().min(0).max(5000).default(250),
    /** Sockets this replica accepts at most; beyond it upgrades get 503 (clients try another). */
    MAX_SOCKETS: positiveInt(50_000),
    /** Sockets one user may hold on all replicas together; beyond it upgrades get 429. */
    MAX_SOCKETS_PER_USER: positiveInt(20),
    /** Client frames a socket may send per second on average (bursts of twice that). */
    CLIENT_FRAMES_PER_SECOND: positiveInt(20),
    /**
     * How long a socket's lease on its slot (and its user's presence) lives unless renewed; renewed
     * every third of it. A replica that dies takes its users offline within this plus the worker's
     * PRESENCE_SWEEP_INTERVAL_MS (40 s + 10 s by default: the contract allows 60 s).
     */
    PRESENCE_TTL_MS: z.coerce.number().int().min(300).max(3_600_000).default(40_000),
    /** After a user's last socket on every replica closes, how long before they are announced offline (a reconnect meanwhile is none). */
    PRESENCE_GRACE_MS: z.coerce.number().int().min(0).max(10_000).default(5000),
    /** How long a new socket may wait for its user's channels (their own and their conversations') to be followed before it is refused with 1013. */
    SUBSCRIBE_TIMEOUT_MS: positiveInt(5000),
  })
  .superRefine(requireJwtKey);

export type GatewayConfig = z.infer<typeof gatewayEnvSchema>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayEnvSchema, env);
}
