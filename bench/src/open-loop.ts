import type { ApiClient } from './api-client.js';
import type { DeliveryTracker, StepAccount } from './delivery-tracker.js';
import { messageText } from './message-text.js';

/** What to post next: which conversation, as which member. */
export interface PostTarget {
  conversationId: string;
  token: string;
}

/** When an open loop's messages are due. */
export interface OpenLoopSchedule {
  /** Messages per second. */
  rate: number;
  seconds: number;
  tickMs: number;
  signal?: AbortSignal;
  /** About every 250 ms, with the time since the start. */
  onTick?: (elapsedMs: number) => void;
}

export interface OpenLoopSettings extends OpenLoopSchedule {
  api: ApiClient;
  tracker: DeliveryTracker;
  step: StepAccount;
  next: () => PostTarget;
  nonces: { next(): number };
  messageBytes: number;
  /** Posts waiting for an answer beyond which a due post is skipped and counted as shortfall. */
  maxInFlight: number;
  signal: AbortSignal;
}

/**
 * Open loop: message i is due at start + i/rate whatever the answers are doing, so a slow server
 * shows up as latency (and shortfall) rather than as a politely lower offered rate. A timer tick
 * every `tickMs` calls `due(i)` for everything that has come due. Resolves with the length of the
 * window in seconds once every message was due (not answered), or at once when `signal` aborts.
 */
export function openLoop(schedule: OpenLoopSchedule, due: (index: number) => void): Promise<number> {
  const { rate, signal } = schedule;
  const total = Math.max(1, Math.round(rate * schedule.seconds));
  const windowMs = schedule.seconds * 1000;
  let issued = 0;
  return new Promise((resolve) => {
    const startedAt = performance.now();
    let lastProgress = 0;
    const tick = () => {
      const elapsed = performance.now() - startedAt;
      const dueNow = signal?.aborted ? issued : Math.min(total, Math.floor((elapsed * rate) / 1000) + 1);
      for (; issued < dueNow; issued += 1) due(issued);
      if (elapsed - lastProgress >= 250) {
        lastProgress = elapsed;
        schedule.onTick?.(elapsed);
      }
      if (issued >= total || signal?.aborted) {
        clearInterval(timer);
        resolve(Math.max(elapsed, windowMs) / 1000);
      }
    };
    const timer = setInterval(tick, schedule.tickMs);
    tick();
  });
}

/**
 * Posts through the public api on an open loop (openLoop): a due post is skipped and counted as
 * shortfall while `maxInFlight` posts wait for an answer. Resolves with the length of the posting
 * window in seconds once every post has been sent (not answered).
 */
export function runOpenLoop(settings: OpenLoopSettings): Promise<number> {
  const { api, tracker, step } = settings;
  const postOne = () => {
    const target = settings.next();
    const nonce = settings.nonces.next();
    const text = messageText(nonce, settings.messageBytes);
    const record = tracker.posted(step, target.conversationId, nonce);
    void api.postMessage(target.conversationId, text, target.token).then((outcome) => {
      tracker.settle(record, outcome.status, outcome.errorCode, performance.now());
    });
  };
  return openLoop(settings, () => {
    if (step.inFlight >= settings.maxInFlight) step.posts.shortfall += 1;
    else postOne();
  });
}

export interface DrainSettings {
  /** Give up when nothing new arrived for this long. */
  idleMs: number;
  /** Give up after this long in any case. */
  maxMs: number;
  signal: AbortSignal;
  onTick?: () => void;
}

/**
 * Waits after the posting window until every POST is answered and every owed frame has arrived,
 * or nothing has moved for `idleMs`, or `maxMs` has passed. Whatever is still owed then is lost.
 */
export function drainStep(step: StepAccount, settings: DrainSettings): Promise<number> {
  const startedAt = performance.now();
  let lastChangeAt = startedAt;
  let lastSeen = -1;
  return new Promise((resolve) => {
    const check = () => {
      const now = performance.now();
      const seen = step.receivedTotal + step.posts.accepted + step.posts.refused + step.posts.errorCount;
      if (seen !== lastSeen) {
        lastSeen = seen;
        lastChangeAt = now;
      }
      settings.onTick?.();
      if (step.settled || now - lastChangeAt >= settings.idleMs || now - startedAt >= settings.maxMs || settings.signal.aborted) {
        clearInterval(timer);
        resolve((now - startedAt) / 1000);
      }
    };
    const timer = setInterval(check, 20);
    check();
  });
}
