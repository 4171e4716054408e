export * from './graceful-shutdown.js';
export * from './config-or-exit.js';
export * from './watch-redis.js';
export * from './service.js';
export * from './run-service.js';
