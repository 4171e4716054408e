import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export interface RedisEndpoint {
  host: string;
  port: number;
  tls?: boolean;
  username?: string;
  password?: string;
}

function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/**
 * Sends PING (after AUTH when a password is given) over a raw socket and resolves with the reply
 * line to PING (`+PONG`, `-NOAUTH …`, `-LOADING …`), or undefined when nothing answered within
 * the timeout. Never rejects.
 */
export function probeRedis(endpoint: RedisEndpoint, timeoutMs: number): Promise<string | undefined> {
  const commands: string[][] = [];
  if (endpoint.password !== undefined && endpoint.password !== '') {
    commands.push(endpoint.username ? ['AUTH', endpoint.username, endpoint.password] : ['AUTH', endpoint.password]);
  }
  commands.push(['PING']);

  return new Promise((resolve) => {
    let settled = false;
    let received = '';
    const socket: Socket = endpoint.tls
      ? connectTls({ host: endpoint.host, port: endpoint.port, servername: endpoint.host })
      : connectTcp({ host: endpoint.host, port: endpoint.port });

    const finish = (reply: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);

    socket.setEncoding('utf8');
    socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => {
      socket.write(commands.map(encodeCommand).join(''));
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      // Every reply to AUTH and PING is one line; only PING's matters, so a password sent to a
      // server that has none (an AUTH error) still counts as reachable.
      const replies = received.split('\r\n').slice(0, -1);
      if (replies.length >= commands.length) finish(replies[commands.length - 1]);
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
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
