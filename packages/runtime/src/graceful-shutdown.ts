import type { Logger } from '@chat/logger';

/**
 * Runs `drain` once on SIGTERM or SIGINT (a second signal does not start it again), then exits 0.
 * If draining takes longer than `timeoutMs` the process exits 1 anyway, so an orchestrator never
 * waits forever.
 */
export function onShutdownSignal(logger: Logger, timeoutMs: number, drain: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;

  function shutdown(reason: string): Promise<void> {
    if (running) return running;
    logger.info({ reason }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    running = drain().then(
      () => {
        clearTimeout(deadline);
        logger.info('stopped');
        logger.flush?.();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
    return running;
  }

  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return () => shutdown('requested');
}
