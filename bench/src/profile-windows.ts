import type { WatchedProcess } from './process-cpu.js';

/** A window in which the services sampled their CPU: which step, and its number in every service. */
export interface ProfileWindow {
  step: string;
  window: number;
}

/**
 * Starts and stops the services' CPU sampling around measured steps (with --profile): SIGUSR2 to
 * every service process, which service-hooks-preload.mjs answers. Each service counts its windows,
 * so window n is the same step everywhere, as long as every service got every signal.
 */
export class ProfileWindows {
  readonly windows: ProfileWindow[] = [];
  private open: { step: string; pids: number[] } | undefined;

  constructor(private readonly services: () => WatchedProcess[]) {}

  start(step: string): void {
    const pids = this.services()
      .filter((service) => service.name !== 'redis' && service.pid !== undefined)
      .map((service) => service.pid as number);
    for (const pid of pids) process.kill(pid, 'SIGUSR2');
    this.open = { step, pids };
    this.windows.push({ step, window: this.windows.length + 1 });
  }

  stop(): void {
    if (!this.open) return;
    for (const pid of this.open.pids) {
      try {
        process.kill(pid, 'SIGUSR2');
      } catch (error) {
        // A service that is gone has nothing to write; anything else is a real failure.
        if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
      }
    }
    this.open = undefined;
  }
}
