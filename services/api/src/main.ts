import { configOrExit, onShutdownSignal } from '@chat/runtime';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { waitForRedis } from '@chat/store';
import { loadApiConfig } from './config.js';
import { buildApi } from './build-api.js';
import { createExpressServer } from './http/express-server.js';

const config = configOrExit('api', loadApiConfig);
const identity = createProcessIdentity('api');
const logger = createLogger(identity, { level: config.LOG_LEVEL });
const api = buildApi(config, identity, logger);
const server = createExpressServer(api.app, { keepAliveTimeout: 65_000 });

await api.start().catch((error: unknown) => {
  logger.fatal({ err: error }, 'JWT keys could not be loaded');
  process.exit(1);
});
await waitForRedis(api.redis, 30_000).catch((error: Error) => {
  logger.warn({ err: { message: error.message } }, 'Redis not ready yet; serving 503 until it is');
});
server.listen(config.API_PORT, config.API_HOST, () => {
  logger.info({ port: config.API_PORT, host: config.API_HOST }, 'api listening');
});

onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await api.close();
});
