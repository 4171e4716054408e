import { ConfigError } from '@chat/config';

/** Reads a service's configuration; a bad value stops the process with one clear line (exit 78). */
export function configOrExit<T>(service: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service}: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
