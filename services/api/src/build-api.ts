import type { Express } from 'express';
import { createPasswordHasher, tokensFromEnv, withVerifiedTokenCache } from '@chat/auth';
import type { Logger, ProcessIdentity } from '@chat/logger';
import { watchRedis } from '@chat/runtime';
import { createMetricsRegistry, type Registry } from '@chat/metrics';
import {
  connectRedis,
  createConversationStore,
  createKeys,
  createMessageStore,
  createRateLimiter,
  createUserStore,
  redisAnswers,
  type Redis,
} from '@chat/store';
import type { ApiConfig } from './config.js';
import { createApp } from './app.js';
import { createDeliveryEnqueuer } from './delivery/delivery-enqueuer.js';

export interface BuiltApi {
  app: Express;
  registry: Registry;
  /** The command connection (fails fast while Redis is away). */
  redis: Redis;
  /** Loads what must be loaded before serving (JWKS keys). */
  start(): Promise<void>;
  /** Closes the queue and every Redis connection. */
  close(): Promise<void>;
}

/** Tokens the api remembers as verified, and for how long (see verified-token-cache.ts). */
const VERIFIED_TOKENS_KEPT = 20_000;
const VERIFIED_TOKEN_MAX_AGE_MS = 60_000;

/** Everything the api is made of, from its validated configuration. main.ts and the tests share it. */
export function buildApi(config: ApiConfig, identity: ProcessIdentity, logger: Logger): BuiltApi {
  const registry = createMetricsRegistry(identity);
  const keys = createKeys(config.REDIS_PREFIX);
  const redis = connectRedis({ url: config.REDIS_URL, name: `${identity.instance}:command`, role: 'command' });

  const jwt = tokensFromEnv(config, (error) => logger.warn({ err: error }, 'JWKS refresh failed'));
  // Every request of a client carries the same token: verify it once, then recognise it. (Not in
  // the gateway, which verifies once per socket and would only hold the tokens in memory.)
  const tokens = withVerifiedTokenCache(jwt.tokens, {
    maxEntries: VERIFIED_TOKENS_KEPT,
    maxAgeMs: VERIFIED_TOKEN_MAX_AGE_MS,
    clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_S,
  });
  // The queue has a connection of its own, without auto-pipelining (see the 'producer' role).
  const queueRedis = connectRedis({ url: config.REDIS_URL, name: `${identity.instance}:producer`, role: 'producer' });
  watchRedis({ command: redis, producer: queueRedis }, logger, registry);
  const deliveries = createDeliveryEnqueuer(queueRedis, keys.queuePrefix, config.ENQUEUE_TIMEOUT_MS);
  const app = createApp({
    logger,
    registry,
    users: createUserStore(redis, keys),
    conversations: createConversationStore(redis, keys),
    messages: createMessageStore(redis, keys, { historyLimit: config.HISTORY_LIMIT }),
    deliveries,
    passwords: createPasswordHasher({ cost: config.PASSWORD_HASH_COST }),
    tokens,
    limiter: createRateLimiter(redis, keys),
    limits: {
      windowMs: config.RATE_LIMIT_WINDOW_S * 1000,
      perUser: config.RATE_LIMIT_PER_USER,
      authPerIp: config.RATE_LIMIT_AUTH_PER_IP,
      authPerUsername: config.RATE_LIMIT_AUTH_PER_USERNAME,
    },
    corsOrigins: config.CORS_ORIGINS,
    trustProxy: config.TRUST_PROXY,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    isReady: () => redisAnswers(redis),
  });

  return {
    app,
    registry,
    redis,
    start: () => jwt.start(),
    async close() {
      jwt.stop();
      await deliveries.close();
      await Promise.allSettled([redis.quit(), queueRedis.quit()]);
    },
  };
}
