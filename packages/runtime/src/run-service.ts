import type { Logger } from '@chat/logger';
import { onShutdownSignal } from './graceful-shutdown.js';
import type { Service } from './service.js';

/**
 * The end of every service's main.ts: starts it, or logs one fatal line and exits 1 when it cannot
 * start (JWT keys not loaded, port taken); then stops it on SIGTERM/SIGINT within the shutdown budget.
 */
export async function runService(name: string, service: Service, logger: Logger, shutdownTimeoutMs: number): Promise<void> {
  await service.start().catch((error: unknown) => {
    logger.fatal({ err: error }, `${name} could not start`);
    logger.flush?.();
    process.exit(1);
  });
  onShutdownSignal(logger, shutdownTimeoutMs, () => service.stop());
}
