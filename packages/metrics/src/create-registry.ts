import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { loadConfig, supervisedEnvSchema } from '@chat/config';

export interface MetricsIdentity {
  service: string;
  instance: string;
}

/**
 * A registry per process, every series labelled with the process identity, plus Node's defaults
 * and `chat_service_restarts`: how many times a supervisor restarted this service before this
 * instance (SERVICE_RESTARTS, which the service's own configuration has already validated, so
 * reading it here cannot fail after start-up). Every service gets it without passing it along.
 */
export function createMetricsRegistry(identity: MetricsIdentity, env: NodeJS.ProcessEnv = process.env): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: identity.service, instance: identity.instance });
  collectDefaultMetrics({ register: registry });
  const restarts = new Gauge({
    name: 'chat_service_restarts',
    help: 'Times a supervisor restarted this service before this instance started (0 when not supervised)',
    registers: [registry],
  });
  restarts.set(loadConfig(supervisedEnvSchema, env).SERVICE_RESTARTS);
  return registry;
}
