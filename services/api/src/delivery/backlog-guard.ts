import type { Logger } from '@chat/logger';
import type { Outbox } from '@chat/store';
import type { MessageShedding } from './message-shedding.js';

export interface BacklogGuardOptions {
  /** The outbox's size is the backlog: every accepted message has an entry until it is published. */
  backlog: Pick<Outbox, 'size'>;
  /** MAX_DELIVERY_BACKLOG: messages accepted and not yet published beyond which posts are refused. */
  limit: number;
  /** How often the backlog is read. */
  intervalMs: number;
  /** Refuses and counts (reason `backlog`). */
  shedding: MessageShedding;
  logger: Logger;
}

export interface BacklogGuard {
  /** Throws UnavailableError (503 + Retry-After) while the last sample was over the limit. */
  admit(): void;
  start(): void;
  stop(): void;
}

/**
 * Sheds new messages while the delivery backlog is over its bound, so that past saturation the
 * api refuses what it could not deliver in time instead of queueing it for seconds. The backlog is
 * sampled on a timer, never per request: the POST path keeps its single Redis round trip, and a
 * sample may be up to one interval stale (the bound is overshot by at most an interval's posts).
 */
export function createBacklogGuard(options: BacklogGuardOptions): BacklogGuard {
  const { backlog, limit, intervalMs, logger } = options;
  const verdict = options.shedding.verdict({
    reason: 'backlog',
    signal: { name: 'chat_delivery_backlog', help: 'Messages accepted and not yet published, as last sampled by this api' },
    refusal: 'too many messages waiting for delivery; retry shortly',
    started: 'delivery backlog over its bound: shedding new messages',
    stopped: 'delivery backlog back under its bound',
  });
  let sampling = false;
  let timer: NodeJS.Timeout | undefined;

  async function sample(): Promise<void> {
    // A slow read (Redis busy) must not pile up reads behind it.
    if (sampling) return;
    sampling = true;
    try {
      const size = await backlog.size();
      verdict.sampled(size, size > limit, { backlog: size, limit });
    } catch (error) {
      // Redis away: posts fail with 503 on their own; keep the last verdict until a read succeeds.
      logger.debug({ err: { message: (error as Error).message } }, 'delivery backlog not sampled');
    } finally {
      sampling = false;
    }
  }

  return {
    admit: verdict.admit,
    start() {
      timer ??= setInterval(() => void sample(), intervalMs);
      // Never what keeps the process alive.
      timer.unref();
      void sample();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
