import { tokensFromEnv } from '@chat/auth';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { createMetricsRegistry } from '@chat/metrics';
import { configOrExit, onShutdownSignal, watchRedis } from '@chat/runtime';
import { connectRedis, createConversationStore, createKeys, createMessageStore, createUserSocketSlots, observeStoreEpoch, redisAnswers } from '@chat/store';
import { loadGatewayConfig } from './config.js';
import { createGateway } from './create-gateway.js';

const config = configOrExit('gateway', loadGatewayConfig);
const identity = createProcessIdentity('gateway');
const logger = createLogger(identity, { level: config.LOG_LEVEL });
const registry = createMetricsRegistry(identity);
const keys = createKeys(config.REDIS_PREFIX);

const redis = connectRedis({ url: config.REDIS_URL, name: `${identity.instance}:command`, role: 'command' });
const subscriber = connectRedis({ url: config.REDIS_URL, name: `${identity.instance}:subscriber`, role: 'subscriber' });
watchRedis({ command: redis, subscriber }, logger, registry);

const jwt = tokensFromEnv(config, (error) => logger.warn({ err: error }, 'JWKS refresh failed'));
await jwt.start().catch((error: unknown) => {
  logger.fatal({ err: error }, 'JWT keys could not be loaded');
  process.exit(1);
});

const gateway = createGateway({
  logger,
  registry,
  tokens: jwt.tokens,
  keys,
  conversations: createConversationStore(redis, keys),
  messages: createMessageStore(redis, keys),
  subscriber,
  socketSlots: createUserSocketSlots(redis, keys),
  observeEpoch: () => observeStoreEpoch(redis, keys),
  isReady: () => redisAnswers(redis),
  settings: {
    maxFrameBytes: config.MAX_FRAME_BYTES,
    sendBufferLimitBytes: config.SEND_BUFFER_LIMIT_BYTES,
    heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
    gapWaitMs: config.GAP_WAIT_MS,
    subscribeTimeoutMs: config.SUBSCRIBE_TIMEOUT_MS,
    clientFramesPerSecond: config.CLIENT_FRAMES_PER_SECOND,
    resumeWindowMs: config.RESUME_WINDOW_MS,
    maxSockets: config.MAX_SOCKETS,
    maxSocketsPerUser: config.MAX_SOCKETS_PER_USER,
  },
});

gateway.server.listen(config.GATEWAY_PORT, config.GATEWAY_HOST, () => {
  logger.info({ port: config.GATEWAY_PORT, host: config.GATEWAY_HOST }, 'gateway listening');
});

onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
  jwt.stop();
  await gateway.close(Math.max(config.SHUTDOWN_TIMEOUT_MS - 1000, 500));
  await Promise.allSettled([redis.quit(), subscriber.quit()]);
});
