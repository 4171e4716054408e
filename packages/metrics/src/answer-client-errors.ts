import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '@chat/contracts/error-codes';

/** How long a refused connection may take to read its answer before it is destroyed. */
const LINGER_MS = 2_000;

interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
}

/**
 * node's `err.code` → our answer. The statuses are node's own defaults for a `clientError`
 * (431 for HPE_HEADER_OVERFLOW, 413 for HPE_CHUNK_EXTENSIONS_OVERFLOW, 408 for
 * ERR_HTTP_REQUEST_TIMEOUT, 400 for every other HPE_*), now with the contract's body.
 */
function refusalFor(nodeCode: string | undefined): Refusal {
  switch (nodeCode) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'invalid_request', message: 'the request line and headers are too large' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'payload_too_large', message: 'the chunk extensions are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'invalid_request', message: 'the request did not arrive in time' };
    default:
      return { status: 400, code: 'invalid_request', message: 'the request is not valid HTTP/1.1' };
  }
}

function errorCode(error: Error): string | undefined {
  return 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Whether an answer of ours has begun on this socket: writing another status line into it would
 * corrupt what the client reads. node keeps no public handle from a socket to its response; its
 * own default `clientError` handler reads this same field for this same decision.
 */
function responseStarted(socket: Duplex): boolean {
  const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  return current?.headersSent === true && !current.writableEnded;
}

/**
 * Answers the requests node's HTTP parser refuses before any handler runs (a header block over
 * the limit, a raw byte in the path, not HTTP at all, a request timeout) in the contract's error
 * shape, `{"error":{code,message}}` with `connection: close`, where node alone would send a bare
 * status line with an empty body. Covers upgrade requests too: the parser refuses them before
 * 'upgrade' is emitted. Attach to every HTTP server we run.
 */
export function answerClientErrors(server: Server): void {
  const refused = new WeakSet<Duplex>();
  server.on('clientError', (error: Error, socket: Duplex) => {
    // The parser keeps failing on each further chunk of a refused request: it was answered once.
    if (refused.has(socket)) return;
    if (errorCode(error) === 'ECONNRESET' || !socket.writable || responseStarted(socket)) {
      socket.destroy();
      return;
    }
    refused.add(socket);
    const { status, code, message } = refusalFor(errorCode(error));
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
        'content-type: application/json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        'cache-control: no-store\r\nconnection: close\r\n\r\n' +
        body,
    );
    // Reading on after the answer (what is read is dropped) rather than closing at once: closing a
    // socket with unread bytes sends a reset, which can discard the answer before the client reads it.
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  });
}
