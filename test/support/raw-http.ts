import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Requests that no HTTP client library will send, for the parser-refusal tests: the bytes go out
 * as given on a fresh connection, and the first answer is read until the server closes (or
 * `timeoutMs` passes, which fails the test). `Connection: close` belongs in the request.
 * The client does not half-close its side: nginx takes that for a client gone (499) and drops a
 * request it is proxying.
 */
export function rawHttpRequest(url: string, request: Buffer | string, timeoutMs = 5_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms; got: ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server may reset after answering (it refused the rest of the request): the answer counts.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...headerLines] = (split < 0 ? text : text.slice(0, split)).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
      if (!Number.isInteger(status)) {
        reject(new Error(`not an HTTP answer: ${JSON.stringify(text.slice(0, 300))}`));
        return;
      }
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = split < 0 ? '' : text.slice(split + 4);
      if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
      resolve({ status, headers, body });
    });
  });
}

function unchunk(chunked: string): string {
  let body = '';
  let rest = chunked;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!(size > 0)) return body;
    body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/** The parser refusals every HTTP entry point must answer in the contract's error shape. */
export const HOSTILE_REQUESTS = {
  /** A 64 KB Authorization header: over every server's header limit. */
  oversizedHeader: `GET /api/me HTTP/1.1\r\nHost: edge\r\nAuthorization: Bearer ${'a'.repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`,
  /** A raw 0xFF byte in the path, which no URL may carry unencoded. */
  rawByteInPath: Buffer.concat([Buffer.from('GET /api/'), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n')]),
  /** A 20 000-byte URL. */
  overlongUrl: `GET /api/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n`,
  /** Not HTTP at all. */
  garbage: 'HELLO THERE\r\n\r\n',
} as const;
