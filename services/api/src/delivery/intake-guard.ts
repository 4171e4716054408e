import { performance } from 'node:perf_hooks';
import type { MessageShedding } from './message-shedding.js';

export interface IntakeGuardOptions {
  /**
   * MAX_EVENT_LOOP_DELAY_MS: how late the api's event loop may run before posts are refused;
   * 0 never refuses (the delay is still measured and shown).
   */
  limitMs: number;
  /** A timer this often measures how late the loop runs it. */
  tickMs: number;
  /** The verdict, and the gauge, are the largest delay over a window this long. */
  windowMs: number;
  /** Refuses and counts (reason `intake`). */
  shedding: MessageShedding;
}

export interface IntakeGuard {
  /** Throws UnavailableError (503 + Retry-After) while the api's own event loop is too late. */
  admit(): void;
  start(): void;
  stop(): void;
}

/**
 * Sheds new messages while the api itself is overloaded, before any work is done for them. When
 * the api is short of CPU, a post waits in its socket until the loop comes round to it: invisible
 * to a count of requests in hand (it has not been read yet) and to the delivery backlog (nothing
 * is accepted late, it is read late). How late a timer runs measures that wait, so it is the
 * signal: a timer every `tickMs` records its lateness; the largest over each window is the
 * verdict for the next one. A post is also refused when the loop is that late right now (the
 * process was descheduled, a long task ran): the requests read in that turn of the loop waited at
 * least as long, and no sample has said so yet. After a stall of D ms (beyond the bound) posts are
 * refused for D ms more, whatever the windows say: what queued during the stall is read over the
 * following turns, on a busy machine for longer than one window, and every one of those posts
 * waited about as long. Per post it costs one clock read, no Redis.
 */
export function createIntakeGuard(options: IntakeGuardOptions): IntakeGuard {
  const { limitMs, tickMs, windowMs } = options;
  const verdict = options.shedding.verdict({
    reason: 'intake',
    signal: {
      name: 'chat_event_loop_delay_seconds',
      help: `The api's largest event-loop delay in the last ${windowMs} ms window: the intake guard's signal (MAX_EVENT_LOOP_DELAY_MS)`,
    },
    refusal: 'the server is overloaded; retry shortly',
    started: 'event loop too late: shedding new messages',
    stopped: 'event loop back on time',
  });
  let timer: NodeJS.Timeout | undefined;
  let lastTickAt = 0;
  let windowStartedAt = 0;
  let windowMax = 0;
  /** Until when posts are refused after a stall (see above). */
  let refuseUntil = 0;

  /** How much later than due the loop would run the timer at `now`. */
  const lateness = (now: number) => Math.max(0, now - lastTickAt - tickMs);

  function tick(): void {
    const now = performance.now();
    const late = lateness(now);
    if (limitMs > 0 && late > limitMs) refuseUntil = Math.max(refuseUntil, now + late);
    windowMax = Math.max(windowMax, late);
    lastTickAt = now;
    // After a stall longer than the window this is its first tick: the verdict follows at once.
    if (now - windowStartedAt < windowMs) return;
    verdict.sampled(windowMax / 1000, limitMs > 0 && windowMax > limitMs, { delayMs: Math.round(windowMax), limitMs });
    windowMax = 0;
    windowStartedAt = now;
  }

  return {
    admit() {
      // Not started (or stopped): nothing measures the loop, and nothing is refused.
      if (limitMs === 0 || timer === undefined) return;
      verdict.admit();
      const now = performance.now();
      const late = lateness(now);
      if (late > limitMs) refuseUntil = Math.max(refuseUntil, now + late);
      if (now < refuseUntil) verdict.refuse();
    },
    start() {
      lastTickAt = windowStartedAt = performance.now();
      timer ??= setInterval(tick, tickMs);
      // Never what keeps the process alive.
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
