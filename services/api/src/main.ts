import { configOrExit, runService } from '@chat/runtime';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { loadApiConfig } from './config.js';
import { createApi } from './create-api.js';

const config = configOrExit('api', loadApiConfig);
const identity = createProcessIdentity('api');
const logger = createLogger(identity, { level: config.LOG_LEVEL });
const api = createApi({ config, identity, logger });

await runService('api', api, logger, config.SHUTDOWN_TIMEOUT_MS);
