import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { connectRedis, createKeys, waitForRedis, type Keys, type Redis } from '@chat/store';
import { loadApiConfig } from '../../services/api/dist/config.js';
import { buildApi } from '../../services/api/dist/build-api.js';
import { createExpressServer } from '../../services/api/dist/http/express-server.js';

export interface ApiInProcessOptions {
  /** BODY_LIMIT_BYTES; default 65536 as in production. */
  bodyLimitBytes?: number;
  /** JWT_TTL_S; default 3600. */
  jwtTtlSeconds?: number;
  /** ENQUEUE_TIMEOUT_MS; default 1000. */
  enqueueTimeoutMs?: number;
  /** pino level of the app's logs; default TEST_LOG_LEVEL or 'silent' so test output stays readable. */
  logLevel?: string;
  /** More api environment (rate limits, CORS, HISTORY_LIMIT…), as the process would get it. */
  env?: Record<string, string>;
}

export interface ApiInProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  redisUrl: string;
  /** The random REDIS_PREFIX of this app: every key it writes starts with `${prefix}:`. */
  prefix: string;
  keys: Keys;
  jwtSecret: string;
  /** A connection of the test's own, for assertions on what the app stored. */
  redis: Redis;
  /** The private redis-server, for fault tests (kill, restart). */
  redisServer: RedisServerHandle;
  /** Closes the server and every connection, then stops and deletes the redis-server. */
  stop(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/**
 * The api's real express app, wired as `services/api/src/main.ts` wires it (real stores, scrypt,
 * HS256 tokens, the BullMQ enqueuer), over a private redis-server, listening on 127.0.0.1:0.
 */
export async function startApiInProcess(options: ApiInProcessOptions = {}): Promise<ApiInProcess> {
  const redisServer = await startRedisServer({});
  const prefix = `t${randomBytes(6).toString('hex')}`;
  const keys = createKeys(prefix);
  const jwtSecret = randomBytes(36).toString('base64'); // 48 characters
  const identity = createProcessIdentity('api');
  const logger = createLogger(identity, { level: options.logLevel ?? process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });

  const config = loadApiConfig({
    REDIS_URL: redisServer.url,
    REDIS_PREFIX: prefix,
    JWT_SECRET: jwtSecret,
    PASSWORD_HASH_COST: '1024',
    BODY_LIMIT_BYTES: String(options.bodyLimitBytes ?? 64 * 1024),
    JWT_TTL_S: String(options.jwtTtlSeconds ?? 3600),
    ENQUEUE_TIMEOUT_MS: String(options.enqueueTimeoutMs ?? 1000),
    ...options.env,
  });
  const api = buildApi(config, identity, logger);
  await api.start();
  const assertRedis = connectRedis({ url: redisServer.url, name: 'test:assertions', role: 'queue' });
  // Expected while a fault test has Redis down; without a listener ioredis prints each one.
  assertRedis.on('error', (error: Error) => logger.debug({ err: { message: error.message } }, 'redis connection error'));
  // The command connection refuses commands until it is ready (no offline queue).
  await Promise.all([waitForRedis(api.redis, 10_000), waitForRedis(assertRedis, 10_000)]);

  const app = api.app;
  const server = createExpressServer(app);
  const port = await listen(server);

  let stopping: Promise<void> | undefined;
  async function stopAll(): Promise<void> {
    await closeServer(server);
    await api.close();
    assertRedis.disconnect();
    await redisServer.dispose();
  }

  return {
    url: `http://127.0.0.1:${port}`,
    redisUrl: redisServer.url,
    prefix,
    keys,
    jwtSecret,
    redis: assertRedis,
    redisServer,
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

/** Every data key the app has written under its prefix (KEYS is fine on a private test server). */
export async function keysOf(app: ApiInProcess): Promise<string[]> {
  // Rate-limit counters are bookkeeping, not data: every request may touch one.
  const rateCounters = `${app.prefix}:rate:`;
  return (await app.redis.keys(`${app.prefix}:*`)).filter((key) => !key.startsWith(rateCounters)).sort();
}
