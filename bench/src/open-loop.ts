import type { ApiClient } from './api-client.js';
import type { DeliveryTracker, StepAccount } from './delivery-tracker.js';
import { messageText } from './message-text.js';

/** What to post next: which conversation, as which member. */
export interface PostTarget {
  conversationId: string;
  token: string;
}

export interface OpenLoopSettings {
  api: ApiClient;
  tracker: DeliveryTracker;
  step: StepAccount;
  next: () => PostTarget;
  nonces: { next(): number };
  /** Messages per second to post. */
  rate: number;
  seconds: number;
  messageBytes: number;
  /** Posts waiting for an answer beyond which a due post is skipped and counted as shortfall. */
  maxInFlight: number;
  tickMs: number;
  signal: AbortSignal;
  onTick?: (elapsedMs: number) => void;
}

/**
 * Open-loop posting: message i is due at start + i/rate whatever the api's answers are doing, so
 * a slow api shows up as latency and shortfall rather than as a politely lower offered rate. A
 * timer tick every few milliseconds sends everything that has come due. Resolves with the length
 * of the posting window in seconds once every post has been sent (not answered).
 */
export function runOpenLoop(settings: OpenLoopSettings): Promise<number> {
  const { api, tracker, step, rate } = settings;
  const total = Math.max(1, Math.round(rate * settings.seconds));
  const windowMs = settings.seconds * 1000;
  let issued = 0;

  const postOne = () => {
    const target = settings.next();
    const nonce = settings.nonces.next();
    const text = messageText(nonce, settings.messageBytes);
    const record = tracker.posted(step, target.conversationId, nonce);
    void api.postMessage(target.conversationId, text, target.token).then((outcome) => {
      tracker.settle(record, outcome.status, outcome.errorCode, performance.now());
    });
  };

  return new Promise((resolve) => {
    const startedAt = performance.now();
    let lastProgress = 0;
    const tick = () => {
      const elapsed = performance.now() - startedAt;
      const due = settings.signal.aborted ? issued : Math.min(total, Math.floor((elapsed * rate) / 1000) + 1);
      for (; issued < due; issued += 1) {
        if (step.inFlight >= settings.maxInFlight) step.posts.shortfall += 1;
        else postOne();
      }
      if (elapsed - lastProgress >= 250) {
        lastProgress = elapsed;
        settings.onTick?.(elapsed);
      }
      if (issued >= total || settings.signal.aborted) {
        clearInterval(timer);
        resolve(Math.max(elapsed, windowMs) / 1000);
      }
    };
    const timer = setInterval(tick, settings.tickMs);
    tick();
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
