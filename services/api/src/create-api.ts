import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createPasswordHasher, tokensFromEnv, withVerifiedTokenCache } from '@chat/auth';
import type { Logger, ProcessIdentity } from '@chat/logger';
import { watchRedis, type Service } from '@chat/runtime';
import { createMetricsRegistry, type Registry } from '@chat/metrics';
import { redisSettings } from '@chat/config';
import {
  claimKeyLayout,
  closeRedis,
  connectRedis,
  createConversationStore,
  createPresenceStore,
  createKeys,
  createLoginFailureGuard,
  createMessageStore,
  createOutbox,
  createRateLimiter,
  createUserStore,
  redisAnswers,
  waitForRedis,
  type Redis,
} from '@chat/store';
import type { ApiConfig } from './config.js';
import { createApp } from './app.js';
import { createBacklogGuard } from './delivery/backlog-guard.js';
import { createDeliveryEnqueuer } from './delivery/delivery-enqueuer.js';
import { createIntakeGuard } from './delivery/intake-guard.js';
import { createMessageShedding } from './delivery/message-shedding.js';
import { createExpressServer } from './http/express-server.js';

export interface ApiDeps {
  config: ApiConfig;
  identity: ProcessIdentity;
  logger: Logger;
}

export interface ApiService extends Service {
  app: Express;
  server: Server;
  registry: Registry;
  /** The command connection (fails fast while Redis is away). */
  redis: Redis;
  /** Where it listens, once started (API_PORT 0 picks a free port). */
  address(): AddressInfo;
}

/** Tokens the api remembers as verified, and for how long (see verified-token-cache.ts). */
const VERIFIED_TOKENS_KEPT = 20_000;
const VERIFIED_TOKEN_MAX_AGE_MS = 60_000;
/** How long start() waits for Redis before serving anyway (503 from the routes that need it). */
const REDIS_WAIT_MS = 30_000;
/** Longer than a load balancer's idle timeout, so it never sends on a socket the api closed. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** How often the delivery backlog is read: a refusal verdict is at most this stale. */
const BACKLOG_SAMPLE_MS = 100;
/** A refused post is worth retrying after about this long: a backlog at the bound drains in under a second. */
const SHED_RETRY_AFTER_S = 1;
/** How often the intake guard's timer measures the event loop's delay, and over what window the largest counts. */
const LOOP_TICK_MS = 10;
const LOOP_WINDOW_MS = 100;

/**
 * The api service from its validated configuration: start() loads the JWT keys, waits for Redis
 * (bounded) and listens on API_HOST:API_PORT; stop() stops accepting, lets requests in hand
 * finish, then closes the queue and every Redis connection. main.ts and the tests share it.
 */
export function createApi({ config, identity, logger }: ApiDeps): ApiService {
  const registry = createMetricsRegistry(identity);
  const { url, clusterNodes, partitions } = redisSettings(config);
  const keys = createKeys(config.REDIS_PREFIX, { clustered: clusterNodes !== undefined, partitions });
  const redis = connectRedis({ url, clusterNodes, name: `${identity.instance}:command`, role: 'command' });

  const jwt = tokensFromEnv(config, (error) => logger.warn({ err: error }, 'JWKS refresh failed'));
  // Every request of a client carries the same token: verify it once, then recognise it. (Not in
  // the gateway, which verifies once per socket and would only hold the tokens in memory.)
  const tokens = withVerifiedTokenCache(jwt.tokens, {
    maxEntries: VERIFIED_TOKENS_KEPT,
    maxAgeMs: VERIFIED_TOKEN_MAX_AGE_MS,
    clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_S,
  });
  // The queue has a connection of its own, without auto-pipelining (see the 'producer' role).
  const queueRedis = connectRedis({ url, clusterNodes, name: `${identity.instance}:producer`, role: 'producer' });
  watchRedis({ command: redis, producer: queueRedis }, logger, registry);
  const deliveries = createDeliveryEnqueuer(queueRedis, keys, config.ENQUEUE_TIMEOUT_MS);
  const limiter = createRateLimiter(redis, keys);
  const shedding = createMessageShedding({ registry, logger, retryAfterSeconds: SHED_RETRY_AFTER_S });
  // Checked first on a post: it refuses with no Redis call at all.
  const intake = createIntakeGuard({
    limitMs: config.MAX_EVENT_LOOP_DELAY_MS,
    tickMs: LOOP_TICK_MS,
    windowMs: LOOP_WINDOW_MS,
    shedding,
  });
  // Sampled on the command connection: no round trip is added to the POST path.
  const backlog = createBacklogGuard({
    backlog: createOutbox(redis, keys),
    limit: config.MAX_DELIVERY_BACKLOG,
    intervalMs: BACKLOG_SAMPLE_MS,
    shedding,
    logger,
  });
  const app = createApp({
    logger,
    registry,
    users: createUserStore(redis, keys),
    conversations: createConversationStore(redis, keys),
    presence: createPresenceStore(redis, keys),
    messages: createMessageStore(redis, keys, {
      historyLimit: config.HISTORY_LIMIT,
      waitReplicas: config.REDIS_WAIT_REPLICAS,
      waitTimeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
    }),
    deliveries,
    intake,
    backlog,
    passwords: createPasswordHasher({ cost: config.PASSWORD_HASH_COST }),
    tokens,
    limiter,
    loginFailures: createLoginFailureGuard(limiter, keys, {
      perUsernameAndAddress: config.RATE_LIMIT_LOGIN_FAILURES_PER_USERNAME_IP,
      perAddress: config.RATE_LIMIT_LOGIN_FAILURES_PER_IP,
      windowMs: config.RATE_LIMIT_LOGIN_FAILURE_WINDOW_S * 1000,
    }),
    limits: {
      windowMs: config.RATE_LIMIT_WINDOW_S * 1000,
      perUser: config.RATE_LIMIT_PER_USER,
      authPerIp: config.RATE_LIMIT_AUTH_PER_IP,
    },
    corsOrigins: config.CORS_ORIGINS,
    trustProxy: config.TRUST_PROXY,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    isReady: () => redisAnswers(redis),
  });
  const server = createExpressServer(app, { keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });

  function listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.API_PORT, config.API_HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  async function close(): Promise<void> {
    if (server.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    }
    jwt.stop();
    intake.stop();
    backlog.stop();
    await deliveries.close();
    await Promise.all([redis, queueRedis].map(closeRedis));
  }

  let stopping: Promise<void> | undefined;
  return {
    app,
    server,
    registry,
    redis,
    address: () => server.address() as AddressInfo,
    async start() {
      await jwt.start();
      await waitForRedis(redis, REDIS_WAIT_MS).catch((error: Error) => {
        logger.warn({ err: { message: error.message } }, 'Redis not ready yet; serving 503 until it is');
      });
      await claimKeyLayout(redis, keys, REDIS_WAIT_MS);
      intake.start();
      backlog.start();
      await listen();
      logger.info({ port: config.API_PORT, host: config.API_HOST }, 'api listening');
    },
    stop() {
      stopping ??= close();
      return stopping;
    },
  };
}
