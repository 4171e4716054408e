import { createServer } from 'node:http';
import { createPasswordHasher, createTokenService } from '@chat/auth';
import { configOrExit, onShutdownSignal } from '@chat/runtime';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { createMetricsRegistry } from '@chat/metrics';
import {
  connectRedis,
  createConversationStore,
  createKeys,
  createMessageStore,
  createUserStore,
  redisAnswers,
  waitForRedis,
} from '@chat/store';
import { loadApiConfig } from './config.js';
import { createApp } from './app.js';
import { createDeliveryEnqueuer } from './delivery/delivery-enqueuer.js';

const config = configOrExit('api', loadApiConfig);
const identity = createProcessIdentity('api');
const logger = createLogger(identity, { level: config.LOG_LEVEL });
const registry = createMetricsRegistry(identity);
const keys = createKeys(config.REDIS_PREFIX);

const redis = connectRedis({ url: config.REDIS_URL, name: `${identity.instance}:command`, role: 'command' });
const queueRedis = connectRedis({ url: config.REDIS_URL, name: `${identity.instance}:queue`, role: 'queue' });
for (const connection of [redis, queueRedis]) {
  connection.on('error', (error: Error) => logger.warn({ err: { message: error.message } }, 'redis connection error'));
}

const tokens = createTokenService({
  algorithm: config.JWT_ALGORITHM,
  secret: config.JWT_SECRET,
  publicKey: config.JWT_PUBLIC_KEY,
  privateKey: config.JWT_PRIVATE_KEY,
  issuer: config.JWT_ISSUER,
  audience: config.JWT_AUDIENCE,
  clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_S,
  ttlSeconds: config.JWT_TTL_S,
});
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
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  isReady: () => redisAnswers(redis),
});

const server = createServer({ keepAliveTimeout: 65_000 }, app);

await waitForRedis(redis, 30_000).catch((error: Error) => {
  logger.warn({ err: { message: error.message } }, 'Redis not ready yet; serving 503 until it is');
});
server.listen(config.API_PORT, config.API_HOST, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.API_PORT;
  logger.info({ port, host: config.API_HOST }, 'api listening');
});

onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await deliveries.close();
  await Promise.allSettled([redis.quit(), queueRedis.quit()]);
});
