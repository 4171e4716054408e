export * from './domain.js';
export * from './identifiers.js';
export * from './rest-schemas.js';
export * from './errors.js';
export * from './close-codes.js';
export * from './frames.js';
export * from './delivery.js';
export * from './response-schemas.js';
