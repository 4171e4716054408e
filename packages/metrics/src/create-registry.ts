import { Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsIdentity {
  service: string;
  instance: string;
}

/** A registry per process, every series labelled with the process identity, plus Node's defaults. */
export function createMetricsRegistry(identity: MetricsIdentity): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: identity.service, instance: identity.instance });
  collectDefaultMetrics({ register: registry });
  return registry;
}
