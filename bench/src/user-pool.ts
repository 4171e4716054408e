import type { ApiClient, RegisteredUser } from './api-client.js';
import { mapWithConcurrency } from './bounded-concurrency.js';

const BENCH_PASSWORD = 'bench-password-not-secret';

export interface RegistrationStats {
  users: number;
  seconds: number;
  perSecond: number;
}

/**
 * Users registered over REST, shared by the workloads: the chat and big-room workloads take the
 * first ones, the idle-sockets workload grows the pool. Names carry a run id so a run against a
 * long-lived stack never collides with an earlier one.
 */
export class UserPool {
  private readonly users: RegisteredUser[] = [];
  readonly registrations: RegistrationStats[] = [];

  constructor(
    private readonly api: ApiClient,
    private readonly runId: string,
    private readonly concurrency: number,
    private readonly signal: AbortSignal,
  ) {}

  get size(): number {
    return this.users.length;
  }

  /** The first `count` users, registering the missing ones (bounded concurrency). */
  async take(count: number, onProgress?: (done: number, total: number) => void): Promise<RegisteredUser[]> {
    const missing = count - this.users.length;
    if (missing > 0) {
      const start = this.users.length;
      const started = performance.now();
      const fresh = await mapWithConcurrency(
        missing,
        this.concurrency,
        (i) => {
          if (this.signal.aborted) throw new Error('interrupted');
          return this.api.register(`b${this.runId}_${start + i}`, BENCH_PASSWORD);
        },
        (done) => onProgress?.(done, missing),
      );
      this.users.push(...fresh);
      const seconds = (performance.now() - started) / 1000;
      this.registrations.push({ users: missing, seconds: round(seconds), perSecond: Math.round(missing / seconds) });
    }
    return this.users.slice(0, count);
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
