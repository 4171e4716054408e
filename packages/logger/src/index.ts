export * from './process-identity.js';
export * from './create-logger.js';
