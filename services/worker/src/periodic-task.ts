/**
 * Runs `task` every `intervalMs`, never two at once (a run still going when the next is due skips
 * it); a failed run is reported and the next one tries again. stop() waits for the run in progress.
 */
export function startPeriodicTask(task: () => Promise<void>, intervalMs: number, onFailed: (error: unknown) => void): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;

  const timer = setInterval(() => {
    if (running || stopped) return;
    running = task()
      .catch(onFailed)
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
