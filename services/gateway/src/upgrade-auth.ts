import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { bearerToken, type TokenService, type VerifiedToken } from '@chat/auth';
import { ChatError, type ErrorBody } from '@chat/contracts';

const WS_PATH = '/ws';

export type UpgradeCheck = { ok: true; token: VerifiedToken } | { ok: false; status: number; body: ErrorBody };

/** Decides an upgrade from its path and token (`?token=` or `Authorization: Bearer`). */
export function checkUpgrade(req: IncomingMessage, tokens: TokenService): UpgradeCheck {
  const url = new URL(req.url ?? '/', 'http://gateway.invalid');
  if (url.pathname !== WS_PATH) {
    return { ok: false, status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
  }
  const token = url.searchParams.get('token') ?? bearerToken(req.headers.authorization);
  if (!token) {
    return { ok: false, status: 401, body: { error: { code: 'unauthenticated', message: 'missing token' } } };
  }
  try {
    return { ok: true, token: tokens.verify(token) };
  } catch (error) {
    if (error instanceof ChatError) return { ok: false, status: error.status, body: error.toBody() };
    throw error;
  }
}

const REASONS: Record<number, string> = {
  401: 'Unauthorized',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Refuses an upgrade with a plain HTTP answer: no socket is opened. */
export function refuseUpgrade(socket: Duplex, status: number, body: ErrorBody, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(payload)}`,
    'Connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${payload}`);
}
