import { tokensFromEnv } from '@chat/auth';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { createMetricsRegistry } from '@chat/metrics';
import { redisSettings } from '@chat/config';
import { configOrExit, runService, watchRedis } from '@chat/runtime';
import {
  connectRedis,
  createConversationStore,
  createKeys,
  createMessageStore,
  createPresenceStore,
  createTypingStore,
  createUserSocketSlots,
  observeStoreEpoch,
  redisAnswers,
} from '@chat/store';
import { loadGatewayConfig } from './config.js';
import { createGateway } from './create-gateway.js';

const config = configOrExit('gateway', loadGatewayConfig);
const identity = createProcessIdentity('gateway');
const logger = createLogger(identity, { level: config.LOG_LEVEL });
const registry = createMetricsRegistry(identity);
const { url, clusterNodes, partitions } = redisSettings(config);
const keys = createKeys(config.REDIS_PREFIX, { clustered: clusterNodes !== undefined, partitions });

const redis = connectRedis({ url, clusterNodes, name: `${identity.instance}:command`, role: 'command' });
const subscriber = connectRedis({ url, clusterNodes, name: `${identity.instance}:subscriber`, role: 'subscriber' });
watchRedis({ command: redis, subscriber }, logger, registry);

const gateway = createGateway({
  logger,
  registry,
  jwt: tokensFromEnv(config, (error) => logger.warn({ err: error }, 'JWKS refresh failed')),
  keys,
  conversations: createConversationStore(redis, keys),
  messages: createMessageStore(redis, keys),
  socketSlots: createUserSocketSlots(redis, keys),
  presence: createPresenceStore(redis, keys),
  typing: createTypingStore(redis, keys),
  redis,
  subscriber,
  observeEpoch: () => observeStoreEpoch(redis, keys),
  isReady: () => redisAnswers(redis),
  settings: {
    host: config.GATEWAY_HOST,
    port: config.GATEWAY_PORT,
    // A second of the shutdown budget is left for closing the server and the Redis connections.
    closeTimeoutMs: Math.max(config.SHUTDOWN_TIMEOUT_MS - 1000, 500),
    maxFrameBytes: config.MAX_FRAME_BYTES,
    sendBufferLimitBytes: config.SEND_BUFFER_LIMIT_BYTES,
    heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
    gapWaitMs: config.GAP_WAIT_MS,
    subscribeTimeoutMs: config.SUBSCRIBE_TIMEOUT_MS,
    clientFramesPerSecond: config.CLIENT_FRAMES_PER_SECOND,
    resumeWindowMs: config.RESUME_WINDOW_MS,
    maxSockets: config.MAX_SOCKETS,
    maxSocketsPerUser: config.MAX_SOCKETS_PER_USER,
    presenceTtlMs: config.PRESENCE_TTL_MS,
    presenceGraceMs: config.PRESENCE_GRACE_MS,
  },
});

await runService('gateway', gateway, logger, config.SHUTDOWN_TIMEOUT_MS);
