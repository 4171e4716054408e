import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Public keys of an external identity provider, by `kid`, from a JWKS file or URL. Keys are held
 * in memory so verification stays synchronous; a URL is fetched again every `refreshMs` and, at
 * most once a second, when a token names a `kid` not seen yet (the provider rotated keys).
 */
export interface KeySource {
  keyFor(kid: string | undefined): KeyObject | undefined;
  /** Loads the keys once; a URL keeps refreshing in the background afterwards. */
  start(): Promise<void>;
  stop(): void;
}

interface Jwks {
  keys: (JsonWebKey & { kid?: string; use?: string })[];
}

const MIN_REFETCH_MS = 1000;

function parseJwks(text: string): Map<string, KeyObject> {
  const jwks = JSON.parse(text) as Partial<Jwks>;
  if (!Array.isArray(jwks.keys)) throw new Error('a JWKS has a "keys" array');
  const keys = new Map<string, KeyObject>();
  for (const jwk of jwks.keys) {
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    keys.set(jwk.kid ?? '', createPublicKey({ key: jwk, format: 'jwk' }));
  }
  return keys;
}

export function jwksFromFile(path: string): KeySource {
  let keys = new Map<string, KeyObject>();
  return {
    keyFor: (kid) => keys.get(kid ?? '') ?? (keys.size === 1 && kid === undefined ? [...keys.values()][0] : undefined),
    async start() {
      keys = parseJwks(readFileSync(path, 'utf8'));
    },
    stop() {},
  };
}

export function jwksFromUrl(url: string, refreshMs: number, onError: (error: unknown) => void): KeySource {
  let keys = new Map<string, KeyObject>();
  let lastFetch = 0;
  let timer: NodeJS.Timeout | undefined;

  async function fetchKeys(): Promise<void> {
    lastFetch = Date.now();
    const response = await fetch(url, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`JWKS ${url} answered ${response.status}`);
    keys = parseJwks(await response.text());
  }

  return {
    keyFor(kid) {
      const key = keys.get(kid ?? '');
      if (!key && Date.now() - lastFetch > MIN_REFETCH_MS) fetchKeys().catch(onError);
      return key ?? (keys.size === 1 && kid === undefined ? [...keys.values()][0] : undefined);
    },
    async start() {
      await fetchKeys();
      timer = setInterval(() => fetchKeys().catch(onError), refreshMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
