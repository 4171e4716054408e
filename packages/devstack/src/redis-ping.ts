import { Redis, ReplyError } from 'ioredis';

export interface RedisEndpoint {
  host: string;
  port: number;
  tls?: boolean;
  username?: string;
  password?: string;
}

/** PING, after AUTH when there is a password; what AUTH answered does not matter, PING's does. */
async function askPing(redis: Redis, endpoint: RedisEndpoint): Promise<string | undefined> {
  const { username, password } = endpoint;
  if (password !== undefined && password !== '') {
    // A password sent to a server that has none is refused, yet that server is reachable.
    await (username ? redis.auth(username, password) : redis.auth(password)).catch(() => undefined);
  }
  try {
    return `+${await redis.ping()}`;
  } catch (error) {
    return error instanceof Error && error instanceof ReplyError ? `-${error.message}` : undefined;
  }
}

/**
 * Connects once (no retries, no offline queue), runs `use`, disconnects. Resolves undefined when
 * nothing listens, the TLS handshake fails or no answer came within `timeoutMs`. A probe that is
 * refused or cut is an answer here, not an error to report: pollers ask again.
 */
async function withOneConnection<T>(
  endpoint: RedisEndpoint,
  timeoutMs: number,
  use: (redis: Redis) => Promise<T | undefined>,
): Promise<T | undefined> {
  const redis = new Redis({
    host: endpoint.host,
    port: endpoint.port,
    ...(endpoint.tls ? { tls: { servername: endpoint.host } } : {}),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    // The answer is the command's reply: no INFO first (it waits out LOADING), no CLIENT SETINFO.
    enableReadyCheck: false,
    disableClientInfo: true,
  });
  redis.on('error', () => undefined);
  const connectAndUse = async (): Promise<T | undefined> => {
    try {
      await redis.connect();
    } catch {
      return undefined;
    }
    return use(redis);
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([connectAndUse(), timeout]);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/**
 * Sends one command on a short-lived connection and resolves with its reply, or undefined when
 * nothing answered within the timeout or the reply was an error. Never rejects. For pollers that
 * watch a server they may have just killed (the cluster harness's CLUSTER INFO, CLUSTER NODES).
 */
export function askRedis(endpoint: RedisEndpoint, timeoutMs: number, command: string, ...args: string[]): Promise<unknown> {
  return withOneConnection(endpoint, timeoutMs, (redis) => redis.call(command, ...args).catch(() => undefined));
}

/**
 * Sends PING (after AUTH when a password is given) on a short-lived connection that never retries,
 * and resolves with the reply to PING as a RESP line (`+PONG`, `-NOAUTH …`, `-LOADING …`), or
 * undefined when nothing answered within the timeout. Never rejects.
 */
export function probeRedis(endpoint: RedisEndpoint, timeoutMs: number): Promise<string | undefined> {
  return withOneConnection(endpoint, timeoutMs, (redis) => askPing(redis, endpoint));
}

/** Whether PING (after AUTH when a password is given) is answered +PONG within the timeout. */
export async function pingRedis(endpoint: RedisEndpoint, timeoutMs: number): Promise<boolean> {
  return (await probeRedis(endpoint, timeoutMs)) === '+PONG';
}

/** Parses a redis:// or rediss:// URL into what {@link pingRedis} needs. */
export function parseRedisUrl(url: string): RedisEndpoint {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`not a redis:// URL: ${parsed.protocol}`);
  }
  const endpoint: RedisEndpoint = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    tls: parsed.protocol === 'rediss:',
  };
  if (parsed.username) endpoint.username = decodeURIComponent(parsed.username);
  if (parsed.password) endpoint.password = decodeURIComponent(parsed.password);
  return endpoint;
}

/**
 * Whether the Redis at `url` answers PING within `timeoutMs` (AUTH first if the URL has a
 * password). A malformed URL is a configuration mistake, not an outage: it throws.
 */
export function redisReachable(url: string, timeoutMs = 1000): Promise<boolean> {
  return pingRedis(parseRedisUrl(url), timeoutMs);
}
