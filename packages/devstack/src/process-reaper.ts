import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let installed = false;

/**
 * SIGKILLs the child if this process exits while it still runs, so a crashed test file or an
 * uncaught error never leaves a redis-server or a service holding a port behind.
 */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (installed) return;
  installed = true;
  process.once('exit', () => {
    for (const remaining of live) remaining.kill('SIGKILL');
  });
}
