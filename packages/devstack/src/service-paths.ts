import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ServiceName = 'api' | 'worker' | 'gateway';

/** The repository root, found from this file's place in packages/devstack/dist/. */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** Absolute path of a service's built entry point (exists after `tsc -b`). */
export function servicePath(name: ServiceName): string {
  return join(repoRoot(), 'services', name, 'dist', 'main.js');
}
