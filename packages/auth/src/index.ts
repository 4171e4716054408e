export * from './token-service.js';
export * from './password-hasher.js';
export * from './jwks-key-source.js';
export * from './token-service-from-env.js';
export * from './verified-token-cache.js';
