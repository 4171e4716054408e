/**
 * Resolves once `check()` holds, polling every 10 ms; rejects after `timeoutMs` naming what was
 * awaited (and, when given, the state that `describe` reports), so a stuck test fails loudly.
 */
export function waitFor(check: () => boolean, what: string, timeoutMs = 10_000, describe?: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (check()) {
        resolve();
        return;
      }
      if (Date.now() - started > timeoutMs) {
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `; ${describe()}` : ''}`));
        return;
      }
      setTimeout(poll, 10);
    };
    poll();
  });
}
