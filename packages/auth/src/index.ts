export * from './token-service.js';
export * from './password-hasher.js';
