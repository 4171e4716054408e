import type { ChildProcess } from 'node:child_process';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (e.g. ENOENT). */
  error?: Error;
}

/** Resolves once the child has exited, or could not be started. Never rejects. */
export function waitForExit(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => {
      // 'error' also reports a failed kill() on a live process; only a missing pid means "never ran".
      if (child.pid === undefined) resolve({ code: null, signal: null, error });
    });
  });
}

/** `signal SIGKILL`, `exit code 3`, or why it could not be spawned: for start-up error messages. */
export function describeExit(status: ExitStatus): string {
  if (status.error) return status.error.message;
  return status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
}

/** The exit status if `exit` settles within `timeoutMs`, else 'timeout' (the process still runs). */
export async function exitWithin(exit: Promise<ExitStatus>, timeoutMs: number): Promise<ExitStatus | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    return await Promise.race([exit, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}
