import { UnavailableError } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import { Counter, Gauge, type Registry } from '@chat/metrics';
import type { Outbox } from '@chat/store';

export interface BacklogGuardOptions {
  /** The outbox's size is the backlog: every accepted message has an entry until it is published. */
  backlog: Pick<Outbox, 'size'>;
  /** MAX_DELIVERY_BACKLOG: messages accepted and not yet published beyond which posts are refused. */
  limit: number;
  /** How often the backlog is read. */
  intervalMs: number;
  /** Sent as Retry-After with each refusal. */
  retryAfterSeconds: number;
  registry: Registry;
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
  const { backlog, limit, intervalMs, retryAfterSeconds, logger } = options;
  const refused = new Counter({
    name: 'chat_messages_shed_total',
    help: 'Messages refused with 503 because the delivery backlog was over MAX_DELIVERY_BACKLOG',
    registers: [options.registry],
  });
  const sampled = new Gauge({
    name: 'chat_delivery_backlog',
    help: 'Messages accepted and not yet published, as last sampled by this api',
    registers: [options.registry],
  });
  let shedding = false;
  let sampling = false;
  let timer: NodeJS.Timeout | undefined;

  async function sample(): Promise<void> {
    // A slow read (Redis busy) must not pile up reads behind it.
    if (sampling) return;
    sampling = true;
    try {
      const size = await backlog.size();
      sampled.set(size);
      const over = size > limit;
      if (over !== shedding) {
        logger.warn({ backlog: size, limit }, over ? 'delivery backlog over its bound: shedding new messages' : 'delivery backlog back under its bound');
      }
      shedding = over;
    } catch (error) {
      // Redis away: posts fail with 503 on their own; keep the last verdict until a read succeeds.
      logger.debug({ err: { message: (error as Error).message } }, 'delivery backlog not sampled');
    } finally {
      sampling = false;
    }
  }

  return {
    admit() {
      if (!shedding) return;
      refused.inc();
      throw new UnavailableError('too many messages waiting for delivery; retry shortly', retryAfterSeconds);
    },
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
