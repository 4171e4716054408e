import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, commonEnv, envBoolean, envPort, loadConfig } from '@chat/config';
import { repoRoot } from './service-paths.js';

/** Settings of `npm start` (the local stack supervisor), each from its environment variable. */
export const stackEnvSchema = z
  .object({
    /** Where the browser connects: the dev edge (web page, /api, /ws). */
    EDGE_HOST: z.string().default('127.0.0.1'),
    EDGE_PORT: envPort(8080),
    API_PORT: envPort(3000),
    /** The worker's ops port (/healthz /readyz /metrics). */
    WORKER_PORT: envPort(3001),
    /** How many gateway processes to run behind the edge. */
    GATEWAY_REPLICAS: z.coerce.number().int().min(1).max(16).default(2),
    /** Replica i (from 0) listens on GATEWAY_BASE_PORT + i. */
    GATEWAY_BASE_PORT: envPort(8081),
    /** An existing Redis to use; unset, the stack runs its own redis-server from PATH. */
    REDIS_URL: z.string().url().optional(),
    /** An existing Redis Cluster to use (its seed nodes, `host:port,…`), as every service reads it. */
    REDIS_CLUSTER_NODES: commonEnv.REDIS_CLUSTER_NODES,
    /**
     * Run a private local Redis Cluster instead of one redis-server (as `npm start -- --cluster`
     * does): 3 masters + 3 replicas from redis-server on PATH, data in DATA_DIR/cluster.
     */
    LOCAL_REDIS_CLUSTER: envBoolean(false),
    /** Port of the stack's own redis-server (not 6379, so a system Redis is left alone). */
    LOCAL_REDIS_PORT: envPort(6380),
    /** Redis data (AOF) and the generated JWT secret live here. */
    DATA_DIR: z
      .string()
      .default(join(repoRoot(), '.data'))
      .transform((dir) => resolve(dir)),
    /** Files the edge serves at / (the web client), when the directory exists. */
    WEB_DIR: z
      .string()
      .default(join(repoRoot(), 'web', 'public'))
      .transform((dir) => resolve(dir)),
    /** Shared HS256 secret; unset, one is generated once and kept in DATA_DIR/jwt-secret. */
    JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 bytes').optional(),
    LOG_LEVEL: commonEnv.LOG_LEVEL,
  })
  .refine((env) => env.GATEWAY_BASE_PORT + env.GATEWAY_REPLICAS - 1 <= 65535, {
    path: ['GATEWAY_BASE_PORT'],
    message: 'GATEWAY_BASE_PORT + GATEWAY_REPLICAS - 1 must be a valid port',
  });

export type StackConfig = z.infer<typeof stackEnvSchema>;

/** `--cluster` on the command line (`npm start -- --cluster`) is LOCAL_REDIS_CLUSTER=true. */
export function loadStackConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv.slice(2)): StackConfig {
  const unknown = argv.filter((arg) => arg !== '--cluster');
  if (unknown.length > 0) throw new ConfigError(`unknown argument ${unknown.join(' ')} (the only one is --cluster)`);
  return loadConfig(stackEnvSchema, argv.includes('--cluster') ? { ...env, LOCAL_REDIS_CLUSTER: 'true' } : env);
}
