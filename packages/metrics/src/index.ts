export * from './answer-client-errors.js';
export * from './create-registry.js';
export * from './ops-routes.js';
export { Counter, Gauge, Histogram, type Registry } from 'prom-client';
