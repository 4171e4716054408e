export * from './graceful-shutdown.js';
export * from './config-or-exit.js';
