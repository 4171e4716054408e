import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Conversation, Message } from '@chat/contracts';

/**
 * A small typed HTTP client for the api's REST routes, over the global fetch. Every function takes
 * the base URL, so the same helpers drive an in-process app or a whole stack behind the edge.
 */

/** A UTC ISO 8601 timestamp, as every api timestamp (createdAt, expiresAt…) is written. */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface ApiRequestOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as JSON with `Content-Type: application/json`. */
  body?: unknown;
  /** Sent as is (no content type unless `headers` gives one); wins over `body`. */
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Aborts the request after this many milliseconds (default 10 000), so a hung server fails loudly. */
  timeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: unknown;
  text: string;
}

export async function apiRequest(
  baseUrl: string,
  method: HttpMethod,
  path: string,
  options: ApiRequestOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  let payload: string | Uint8Array | undefined;
  if (options.rawBody !== undefined) {
    payload = options.rawBody;
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(options.body);
  }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  Object.assign(headers, options.headers);

  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  let body: unknown;
  if (text.length > 0) {
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // Not JSON (e.g. /metrics): callers read `text` instead.
      body = undefined;
    }
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** A fresh username that matches ^[a-z0-9_.-]{2,32}$ and will not collide across runs. */
export function randomUsername(stem = 'u'): string {
  return `${stem}_${randomBytes(6).toString('hex')}`.slice(0, 32);
}

export interface RegisteredUser {
  username: string;
  password: string;
  token: string;
  expiresAt: string;
}

/** Registers a user (random name unless given) and returns its token; fails loudly on anything but 201. */
export async function registerUser(
  baseUrl: string,
  username = randomUsername(),
  password = 'correct horse battery',
  headers: Record<string, string> = {},
): Promise<RegisteredUser> {
  const response = await apiRequest(baseUrl, 'POST', '/api/auth/register', { body: { username, password }, headers });
  assert.equal(response.status, 201, `register ${username}: ${response.status} ${response.text}`);
  const body = response.body as { token: string; expiresAt: string };
  return { username, password, token: body.token, expiresAt: body.expiresAt };
}

/** The api's answers, as the contract defines them. */
export type ConversationBody = Conversation;
export type MessageBody = Message;

/** Creates a conversation as the token's user; fails loudly on anything but 201. */
export async function createConversation(
  baseUrl: string,
  token: string,
  users: readonly string[] = [],
  title = 'a conversation',
): Promise<ConversationBody> {
  const response = await apiRequest(baseUrl, 'POST', '/api/conversations', { token, body: { title, users } });
  assert.equal(response.status, 201, `create conversation: ${response.status} ${response.text}`);
  return response.body as ConversationBody;
}

/** Posts a message as the token's user; fails loudly on anything but 201. */
export async function postMessage(baseUrl: string, token: string, conversationId: string, text: string): Promise<MessageBody> {
  const response = await apiRequest(baseUrl, 'POST', `/api/conversations/${encodeURIComponent(conversationId)}/messages`, {
    token,
    body: { text },
  });
  assert.equal(response.status, 201, `post message: ${response.status} ${response.text}`);
  return response.body as MessageBody;
}

/** Text that must never reach a client: stack frames and Redis/ioredis error wording. */
const LEAK_PATTERNS = [
  /\n\s+at\s/,
  /\.(ts|js):\d+/,
  /ioredis/i,
  /ECONNREFUSED|ECONNRESET|EPIPE/,
  /enableOfflineQueue|Stream isn't writeable|Connection is closed|NOSCRIPT|WRONGTYPE|ERR /,
];

/**
 * Asserts the status, and that the body is exactly `{error: {code, message}}` with the given code,
 * a non-empty string message, and nothing that leaks internals.
 */
export function assertErrorShape(response: ApiResponse, status: number, code: string): void {
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${response.text}`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, 'error bodies are JSON');
  const body = response.body;
  assert.ok(typeof body === 'object' && body !== null, `error body is an object: ${response.text}`);
  assert.deepEqual(Object.keys(body), ['error'], `error body has only "error": ${response.text}`);
  const error = (body as { error: unknown }).error;
  assert.ok(typeof error === 'object' && error !== null, `error is an object: ${response.text}`);
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message'], `error has exactly code and message: ${response.text}`);
  const { code: actualCode, message } = error as { code: unknown; message: unknown };
  assert.equal(actualCode, code, `error code: ${response.text}`);
  assert.equal(typeof message, 'string', 'error message is a string');
  assert.ok((message as string).length > 0, 'error message is not empty');
  for (const pattern of LEAK_PATTERNS) {
    assert.doesNotMatch(response.text, pattern, `error body leaks internals: ${response.text}`);
  }
}
