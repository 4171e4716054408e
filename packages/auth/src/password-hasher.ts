import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export interface PasswordHasherSettings {
  /** scrypt cost (N). 16384 takes tens of milliseconds; tests may lower it. */
  cost: number;
}

/**
 * Salted scrypt, stored as `scrypt$N$r$p$salt$key` so the cost can rise later without breaking
 * stored hashes. Runs on libuv's thread pool, not the event loop.
 */
export function createPasswordHasher(settings: PasswordHasherSettings) {
  const params = { N: settings.cost, r: 8, p: 1, maxmem: 256 * settings.cost * 8 * 2 };

  async function hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_LENGTH);
    const key = await scryptAsync(password, salt, params);
    return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
  }

  async function verify(password: string, stored: string): Promise<boolean> {
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
    const [, n, r, p, saltText, keyText] = parts as [string, string, string, string, string, string];
    const N = Number(n);
    const expected = Buffer.from(keyText, 'base64');
    const key = await scryptAsync(password, Buffer.from(saltText, 'base64'), {
      N,
      r: Number(r),
      p: Number(p),
      maxmem: 256 * N * Number(r) * 2,
    });
    return key.length === expected.length && timingSafeEqual(key, expected);
  }

  // A stored hash for users that do not exist, so a failed login costs the same either way and
  // does not reveal whether the username is taken.
  const decoy = hash(randomBytes(16).toString('hex'));

  return {
    hash,
    verify,
    async verifyAgainstDecoy(password: string): Promise<false> {
      await verify(password, await decoy);
      return false;
    },
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
