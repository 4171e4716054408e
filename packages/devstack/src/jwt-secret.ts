import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface JwtSecret {
  secret: string;
  /** Where it came from, for the log (the secret itself is never logged). */
  source: 'env' | 'file' | 'generated';
  /** The file it was read from or written to. */
  file?: string;
}

const MIN_SECRET_LENGTH = 32;

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

/**
 * The HS256 secret for the local stack: the given one, else the one kept in `dataDir/jwt-secret`,
 * else a new random one written there (mode 0600), so tokens survive a restart of `npm start`.
 */
export async function resolveJwtSecret(fromEnv: string | undefined, dataDir: string): Promise<JwtSecret> {
  if (fromEnv !== undefined) return { secret: fromEnv, source: 'env' };
  const file = join(dataDir, 'jwt-secret');
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new Error(`${file} holds a secret shorter than ${MIN_SECRET_LENGTH} bytes; delete it to generate a new one`);
    }
    return { secret, source: 'file', file };
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  // 'wx': if another `npm start` wrote one meanwhile, fail rather than silently replace it.
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { secret, source: 'generated', file };
}
