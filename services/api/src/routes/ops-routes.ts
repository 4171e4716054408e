import { healthSchema } from '@chat/contracts';
import { defineRoute } from './route-definition.js';

/** Health, readiness and metrics: the answers are the shared ones from @chat/metrics. */
export const opsRoutes = [
  defineRoute({
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    tag: 'operations',
    summary: 'Liveness',
    access: 'public',
    success: { status: 200, description: 'The process runs (Redis may still be down).', body: healthSchema },
    handle: ({ req, res }, deps) => deps.ops['/healthz'](req, res),
  }),
  defineRoute({
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    tag: 'operations',
    summary: 'Readiness',
    access: 'public',
    success: { status: 200, description: 'Redis answers.', body: healthSchema },
    errors: { 503: 'Redis does not answer.' },
    handle: ({ req, res }, deps) => deps.ops['/readyz'](req, res),
  }),
  defineRoute({
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    access: 'public',
    success: {
      status: 200,
      description: 'Metrics in the Prometheus text format.',
      body: { 'text/plain': { schema: { type: 'string', description: 'Prometheus text exposition format 0.0.4' } } },
    },
    handle: ({ req, res }, deps) => deps.ops['/metrics'](req, res),
  }),
];
