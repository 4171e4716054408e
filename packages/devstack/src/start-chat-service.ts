import { startService, type ServiceHandle, type ServiceOptions } from './service-process.js';
import { servicePath, type ServiceName } from './service-paths.js';

/** The variables each service reads its listening address from (see each service's config.ts). */
const LISTEN_ENV: Record<ServiceName, { host: string; port: string }> = {
  api: { host: 'API_HOST', port: 'API_PORT' },
  worker: { host: 'WORKER_HOST', port: 'WORKER_PORT' },
  gateway: { host: 'GATEWAY_HOST', port: 'GATEWAY_PORT' },
};

export interface ChatServiceOptions extends Omit<ServiceOptions, 'name' | 'script' | 'healthUrl'> {
  /** Default: the service's own name (gateway replicas want gateway-0, gateway-1 …). */
  name?: string;
  /** It listens on 127.0.0.1 at this port; start-up is done once its /healthz answers 200. */
  port: number;
}

/**
 * Starts one of the system's services from its built entry point, listening on 127.0.0.1:`port`.
 * `env` comes first, so the address given here always wins over an inherited one.
 */
export function startChatService(service: ServiceName, options: ChatServiceOptions): Promise<ServiceHandle> {
  const { name = service, port, env, ...rest } = options;
  const listen = LISTEN_ENV[service];
  return startService({
    ...rest,
    name,
    script: servicePath(service),
    env: { ...env, [listen.host]: '127.0.0.1', [listen.port]: String(port) },
    healthUrl: `http://127.0.0.1:${port}/healthz`,
  });
}
