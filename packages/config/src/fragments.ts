import { z } from 'zod';
import { MAX_DELIVERY_PARTITIONS } from '@chat/contracts';

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
  /** Redis connection URL (single-Redis mode; with REDIS_CLUSTER_NODES, its password and TLS apply to every node). */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /**
   * Seed nodes of a Redis Cluster, `host:port,host:port,…`: when set, every service runs on the
   * cluster (hash-tagged keys, sharded pub/sub, one delivery queue per partition) instead of REDIS_URL.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const nodes = value.split(',').map((item) => item.trim()).filter((item) => item.length > 0).map(parseNode);
      if (nodes.some((node) => node === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'must be host:port,host:port,… (ports 1-65535)' });
        return z.NEVER;
      }
      return nodes as ClusterNode[];
    }),
  /**
   * Delivery partitions conversations are spread over (@chat/contracts deliveryPartition): each has
   * its own outbox, drained by one worker job at a time. Default 1 on one Redis (the most messages
   * per drain; safe to change at any time), 12 on a cluster, where a partition is a hash slot of
   * its own (its conversations, outbox and queue live there) so the load spreads over the masters:
   * there it is part of the key layout, recorded in Redis at first start, and a service started
   * with another value refuses to run. 12 spreads evenly over 2, 3, 4, 6 or 12 masters.
   */
  DELIVERY_PARTITIONS: z.coerce.number().int().min(1).max(MAX_DELIVERY_PARTITIONS).optional(),
  /**
   * Replicas that must confirm a message (Redis WAIT) before the api answers 201; 503 when they do
   * not within REDIS_WAIT_TIMEOUT_MS. 0 (default): acknowledged once its master has it, which
   * a failover can lose (replication is asynchronous).
   */
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).default(0),
  REDIS_WAIT_TIMEOUT_MS: positiveInt(1000),
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

export interface ClusterNode {
  host: string;
  port: number;
}

function parseNode(text: string): ClusterNode | undefined {
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon);
  const port = Number(text.slice(colon + 1));
  return colon > 0 && Number.isInteger(port) && port > 0 && port < 65536 ? { host, port } : undefined;
}

/** Partitions on a cluster when DELIVERY_PARTITIONS is not set. */
export const CLUSTER_DELIVERY_PARTITIONS = 12;

/** What every service derives from commonEnv about its Redis: the one place that decides the mode. */
export interface RedisSettings {
  /** REDIS_URL: the single Redis, or (on a cluster) the password and TLS settings of every node. */
  url: string;
  /** Set on a cluster: its seed nodes. */
  clusterNodes: ClusterNode[] | undefined;
  /** DELIVERY_PARTITIONS, or its default for the mode. */
  partitions: number;
}

export function redisSettings(config: {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: ClusterNode[] | undefined;
  DELIVERY_PARTITIONS?: number | undefined;
}): RedisSettings {
  const clusterNodes = config.REDIS_CLUSTER_NODES;
  const partitions = config.DELIVERY_PARTITIONS ?? (clusterNodes === undefined ? 1 : CLUSTER_DELIVERY_PARTITIONS);
  return { url: config.REDIS_URL, clusterNodes, partitions };
}

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
