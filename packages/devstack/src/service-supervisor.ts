import type { ServiceHandle } from './service-process.js';

/** What the supervisor tells about the service it keeps running; `npm start` logs it. */
export type SupervisorEvent =
  | { kind: 'died'; name: string; pid: number; code: number | null; signal: NodeJS.Signals | null; restartInMs: number; restarts: number }
  | { kind: 'restarted'; name: string; pid: number; restarts: number }
  | { kind: 'restart-failed'; name: string; reason: string; restartInMs: number; restarts: number }
  | { kind: 'gave-up'; name: string; restarts: number; windowMs: number };

export interface SupervisorOptions {
  name: string;
  /**
   * Starts one instance and resolves once it is healthy (e.g. startChatService). `restarts` is the
   * count so far, this one included, for the instance to report (SERVICE_RESTARTS, its metrics).
   */
  start: (restarts: number) => Promise<ServiceHandle>;
  /** The instance already started by the caller, so start-up failures stay the caller's to report. */
  first: ServiceHandle;
  onEvent: (event: SupervisorEvent) => void;
  /** First restart delay; it doubles after each death up to maxDelayMs. Default 250 ms. */
  initialDelayMs?: number;
  /** Default 5 000 ms. */
  maxDelayMs?: number;
  /**
   * A crash loop: more than this many deaths within windowMs. The supervisor stops restarting and
   * reports 'gave-up' (the stack then stops with one clear line). Default 5 within 60 s.
   */
  maxRestarts?: number;
  windowMs?: number;
}

export interface SupervisedService {
  readonly name: string;
  /** The instance running now (or the last one, while a restart is pending). */
  current(): ServiceHandle;
  /** Deaths so far that were followed by a restart attempt. */
  restarts(): number;
  /** Cancels a pending restart and stops the instance; resolves with its exit code. Idempotent. */
  stop(): Promise<number | null>;
}

/**
 * Keeps one service running the way an orchestrator would: an instance that dies on its own is
 * started again after a delay that doubles per death (so a service that dies at once does not spin),
 * and the delay starts over once an instance has outlived the crash-loop window. Only a crash loop
 * (too many deaths in the window) makes it give up. `npm start` supervises every service with it,
 * so losing one replica is what it is in production: a short gap, not the end of the stack.
 */
export function superviseService(options: SupervisorOptions): SupervisedService {
  const initialDelayMs = options.initialDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const maxRestarts = options.maxRestarts ?? 5;
  const windowMs = options.windowMs ?? 60_000;

  let instance = options.first;
  let startedAt = Date.now();
  let restarts = 0;
  let delayMs = initialDelayMs;
  /** When each recent death happened, for the crash-loop bound. */
  let deaths: number[] = [];
  let stopped = false;
  let pending: NodeJS.Timeout | undefined;
  /** A restart under way: stop() waits for it, so no instance outlives the stack. */
  let starting: Promise<ServiceHandle | undefined> | undefined;
  let stopping: Promise<number | null> | undefined;

  function nextDelay(): number {
    const now = Date.now();
    // An instance that lived through a whole window was healthy: its death starts the count over.
    if (now - startedAt >= windowMs) delayMs = initialDelayMs;
    const delay = delayMs;
    delayMs = Math.min(delayMs * 2, maxDelayMs);
    return delay;
  }

  /** Records a death; false when it makes a crash loop. */
  function countDeath(): boolean {
    const now = Date.now();
    deaths = deaths.filter((at) => now - at < windowMs);
    deaths.push(now);
    if (deaths.length <= maxRestarts) return true;
    stopped = true;
    options.onEvent({ kind: 'gave-up', name: options.name, restarts, windowMs });
    return false;
  }

  function scheduleRestart(restartInMs: number): void {
    pending = setTimeout(() => {
      pending = undefined;
      if (stopped) return;
      starting = options.start(restarts).then(
        (handle) => {
          if (stopped) return handle;
          watch(handle);
          options.onEvent({ kind: 'restarted', name: options.name, pid: handle.pid, restarts });
          return handle;
        },
        (error: unknown) => {
          if (stopped || !countDeath()) return undefined;
          restarts += 1;
          const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
          const delay = nextDelay();
          options.onEvent({ kind: 'restart-failed', name: options.name, reason, restartInMs: delay, restarts });
          scheduleRestart(delay);
          return undefined;
        },
      );
    }, restartInMs);
  }

  function watch(handle: ServiceHandle): void {
    instance = handle;
    startedAt = Date.now();
    void handle.exited.then(({ code, signal }) => {
      if (stopped || handle !== instance || !countDeath()) return;
      restarts += 1;
      const delay = nextDelay();
      options.onEvent({ kind: 'died', name: options.name, pid: handle.pid, code, signal, restartInMs: delay, restarts });
      scheduleRestart(delay);
    });
  }

  watch(options.first);

  return {
    name: options.name,
    current: () => instance,
    restarts: () => restarts,
    stop() {
      if (stopping) return stopping;
      stopped = true;
      clearTimeout(pending);
      stopping = (async () => {
        const late = await starting;
        if (late !== undefined && late !== instance) await late.stop();
        return instance.stop();
      })();
      return stopping;
    },
  };
}
