import { configOrExit, onShutdownSignal } from '@chat/runtime';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { loadApiConfig } from './config.js';
import { createApi } from './create-api.js';

const config = configOrExit('api', loadApiConfig);
const identity = createProcessIdentity('api');
const logger = createLogger(identity, { level: config.LOG_LEVEL });
const api = createApi({ config, identity, logger });

await api.start().catch((error: unknown) => {
  logger.fatal({ err: error }, 'api could not start (JWT keys not loaded, or the port is taken)');
  process.exit(1);
});

onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, () => api.stop());
