import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { connectRedis, createKeys, waitForRedis, type Keys, type Redis } from '@chat/store';
import { loadApiConfig } from '../../services/api/src/config.js';
import { createApi } from '../../services/api/src/create-api.js';

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
  /** The express app it serves, for tests that look at what it registered. */
  expressApp: Express;
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

/**
 * The api service as `services/api/src/main.ts` starts it (`createApi`: real stores, scrypt,
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
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    REDIS_URL: redisServer.url,
    REDIS_PREFIX: prefix,
    JWT_SECRET: jwtSecret,
    PASSWORD_HASH_COST: '1024',
    BODY_LIMIT_BYTES: String(options.bodyLimitBytes ?? 64 * 1024),
    JWT_TTL_S: String(options.jwtTtlSeconds ?? 3600),
    ENQUEUE_TIMEOUT_MS: String(options.enqueueTimeoutMs ?? 1000),
    // Off unless a test is about it: the app shares the test runner's event loop, which property
    // tests and module loading keep busy for longer than the production bound.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...options.env,
  });
  const api = createApi({ config, identity, logger });
  await api.start();
  const assertRedis = connectRedis({ url: redisServer.url, name: 'test:assertions', role: 'queue' });
  // Expected while a fault test has Redis down; without a listener ioredis prints each one.
  assertRedis.on('error', (error: Error) => logger.debug({ err: { message: error.message } }, 'redis connection error'));
  await waitForRedis(assertRedis, 10_000);

  let stopping: Promise<void> | undefined;
  async function stopAll(): Promise<void> {
    const stopped = api.stop();
    // Keep-alive sockets a test left open would hold the server; a test has nothing in flight here.
    api.server.closeAllConnections();
    await stopped;
    assertRedis.disconnect();
    await redisServer.dispose();
  }

  return {
    url: `http://127.0.0.1:${api.address().port}`,
    expressApp: api.app,
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

/** Every lasting data key the app has written under its prefix (KEYS is fine on a private test server). */
export async function keysOf(app: ApiInProcess): Promise<string[]> {
  // Rate-limit counters are bookkeeping, not data: every request may touch one. Keys that expire by
  // themselves are signals, not data: a partition's wake flag, set for 2 s by an accepted post, may
  // lapse between two reads of a test that checks a refused request wrote nothing.
  const rateCounters = `${app.prefix}:rate:`;
  const keys = (await app.redis.keys(`${app.prefix}:*`)).filter((key) => !key.startsWith(rateCounters));
  const ttls = await Promise.all(keys.map((key) => app.redis.pttl(key)));
  return keys.filter((_, i) => ttls[i] === -1).sort();
}

/** Every lasting data key (keysOf) with its serialized value: equal snapshots mean nothing changed. */
export async function storeSnapshot(app: ApiInProcess): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const key of await keysOf(app)) values.set(key, ((await app.redis.dumpBuffer(key)) ?? Buffer.alloc(0)).toString('base64'));
  return values;
}
