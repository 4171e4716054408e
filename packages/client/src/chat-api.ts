import { SEQ_PARAM_MAX } from '@chat/contracts/limits';
import { newClientId } from './client-id.js';
import { ChatApiError, ChatNetworkError } from './errors.js';
import { resolveToken, type TokenSource } from './token-source.js';
import type {
  AuthResult,
  Conversation,
  CreateConversationInput,
  Message,
  MessagePage,
  MessagePageBefore,
  ReadState,
  PresenceItem,
  PresenceList,
  UpdateConversationInput,
  User,
} from './types.js';

/** The part of a fetch Response the client reads. */
export interface FetchResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The global `fetch`, or anything that behaves like it for these arguments. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<FetchResponseLike>;

export interface ChatApiOptions {
  /** Where the api is reached, e.g. `https://chat.example.com` (the client adds `/api/...`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; a function is called for every request. */
  token?: TokenSource;
  /** Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** A request without an answer after this long fails with ChatNetworkError (timedOut). Default 15 000; 0 waits forever. */
  timeoutMs?: number;
  /** More headers for every request. */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  /** Aborts the request; it then fails with ChatNetworkError. */
  signal?: AbortSignal;
}

export interface ListConversationsOptions extends RequestOptions {
  /** `activity`: newest message (else creation) first (wire 1.1). Default: oldest creation first. */
  order?: 'activity';
}

export interface PostMessageOptions extends RequestOptions {
  /**
   * Makes a retry safe (wire 1.1): the server stores the message once per clientId, and answers a
   * repeat with the message stored the first time. Default: a fresh one per call, so retry a
   * failed call with the clientId of the message it returned or pass your own.
   */
  clientId?: string;
}

export interface ListMessagesOptions extends RequestOptions {
  /** Only messages with a greater seq (default 0: from the start). */
  after?: number;
  /** At most this many (server default 50, max 500). */
  limit?: number;
}

export interface ListMessagesBeforeOptions extends RequestOptions {
  /** Only messages with a smaller seq (at least 1; default: none, the newest page). */
  before?: number;
  /** At most this many (server default 50, max 500). */
  limit?: number;
}

export interface MessageRangeOptions extends RequestOptions {
  /** Only messages with a greater seq (default 0). */
  after?: number;
  /** Stop after this seq (default: the newest). */
  until?: number;
  /** Messages per request (default and max 500). */
  pageSize?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

const messagePath = (id: string, seq: number) => `/api/conversations/${encodeURIComponent(id)}/messages/${seq}`;
export const PAGE_SIZE_MAX = 500;

interface CallOptions extends RequestOptions {
  body?: unknown;
  authenticated?: boolean;
}

function retryAfterSeconds(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function errorFromBody(status: number, text: string, retryAfter: number | undefined): ChatApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // A proxy's HTML page or an empty body: the status is all there is.
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new ChatApiError(status, error.code, error.message, retryAfter);
  }
  return new ChatApiError(status, `http_${status}`, `the server answered ${status}`, retryAfter);
}

/**
 * The REST api (docs/protocol.md, "The api (HTTP)"). Every method resolves with the contract's success
 * body, or rejects with ChatApiError (an error answer, with its status and code) or
 * ChatNetworkError (no answer).
 */
export class ChatApi {
  private readonly baseUrl: string;
  private token: TokenSource | undefined;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(options: ChatApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    if (!options.fetch && typeof globalThis.fetch !== 'function') {
      throw new TypeError('ChatApi: no global fetch here; pass the `fetch` option');
    }
    // Browsers refuse fetch called as a method of another object ("Illegal invocation"), so the
    // global one is called through a wrapper, never stored and called as this.fetchImpl(...).
    this.fetchImpl = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.headers = { ...options.headers };
  }

  /** Replaces the token, e.g. with the one `login` returned. */
  setToken(token: TokenSource | undefined): void {
    this.token = token;
  }

  register(username: string, password: string, options?: RequestOptions): Promise<AuthResult> {
    return this.call('POST', '/api/auth/register', { ...options, body: { username, password }, authenticated: false });
  }

  login(username: string, password: string, options?: RequestOptions): Promise<AuthResult> {
    return this.call('POST', '/api/auth/login', { ...options, body: { username, password }, authenticated: false });
  }

  me(options?: RequestOptions): Promise<User> {
    return this.call('GET', '/api/me', options);
  }

  /** The caller's conversations with their read state, oldest first or (`order: 'activity'`) newest activity first. */
  async listConversations(options: ListConversationsOptions = {}): Promise<Conversation[]> {
    const { order, ...rest } = options;
    const page = await this.call<{ items: Conversation[] }>('GET', `/api/conversations${order ? `?order=${encodeURIComponent(order)}` : ''}`, rest);
    return page.items;
  }

  /**
   * Moves the caller's read cursor forward to `seq` (never back; above the conversation's lastSeq
   * is a 400). Every socket of the caller gets a `read` event when it moved (wire 1.1).
   */
  markRead(id: string, seq: number, options?: RequestOptions): Promise<ReadState> {
    return this.call('PUT', `/api/conversations/${encodeURIComponent(id)}/read`, { ...options, body: { seq } });
  }

  createConversation(input: CreateConversationInput, options?: RequestOptions): Promise<Conversation> {
    return this.call('POST', '/api/conversations', { ...options, body: input });
  }

  getConversation(id: string, options?: RequestOptions): Promise<Conversation> {
    return this.call('GET', `/api/conversations/${encodeURIComponent(id)}`, options);
  }

  updateConversation(id: string, changes: UpdateConversationInput, options?: RequestOptions): Promise<Conversation> {
    return this.call('PATCH', `/api/conversations/${encodeURIComponent(id)}`, { ...options, body: changes });
  }

  /** Leaves the conversation (the last member to leave deletes it and its history). */
  leaveConversation(id: string, options?: RequestOptions): Promise<void> {
    return this.call('POST', `/api/conversations/${encodeURIComponent(id)}/leave`, options);
  }

  /**
   * Whether the listed users (1 to 100) are online: only those who share a conversation with the
   * caller, and the caller, are answered; anyone else is left out (wire 1.1).
   */
  async getPresence(users: readonly string[], options?: RequestOptions): Promise<PresenceItem[]> {
    const list = await this.call<PresenceList>('GET', `/api/presence?users=${users.map(encodeURIComponent).join(',')}`, options);
    return list.items;
  }

  /** One page of messages, ascending seq. */
  listMessages(id: string, options: ListMessagesOptions = {}): Promise<MessagePage> {
    return this.readMessages(id, { after: options.after, limit: options.limit }, options.signal);
  }

  /**
   * One page read backwards, ascending seq: the newest `limit` messages before `before`, or the
   * newest of all without it. Pass `nextBefore` as `before` for the page before (wire 1.1).
   */
  listMessagesBefore(id: string, options: ListMessagesBeforeOptions = {}): Promise<MessagePageBefore> {
    return this.readMessages(id, { before: options.before ?? SEQ_PARAM_MAX, limit: options.limit }, options.signal);
  }

  /** Every message after `after` (up to `until`), page by page, ascending seq. */
  async *iterateMessages(id: string, options: MessageRangeOptions = {}): AsyncGenerator<Message, void, undefined> {
    const { until, signal } = options;
    const pageSize = Math.min(Math.max(1, options.pageSize ?? PAGE_SIZE_MAX), PAGE_SIZE_MAX);
    let after: number | null = options.after ?? 0;
    while (after !== null && (until === undefined || after < until)) {
      const limit = until === undefined ? pageSize : Math.min(pageSize, until - after);
      const page: MessagePage = await this.listMessages(id, { after, limit, ...(signal ? { signal } : {}) });
      for (const message of page.items) {
        if (until !== undefined && message.seq > until) return;
        yield message;
      }
      // A server that answers an empty page with a cursor would loop forever.
      after = page.items.length > 0 ? page.nextAfter : null;
    }
  }

  /** Every message after `after` (up to `until`) in one array, ascending seq. */
  async listAllMessages(id: string, options: MessageRangeOptions = {}): Promise<Message[]> {
    const messages: Message[] = [];
    for await (const message of this.iterateMessages(id, options)) messages.push(message);
    return messages;
  }

  /** Sends a message with a clientId (see PostMessageOptions; MessageOutbox retries for you). */
  postMessage(id: string, text: string, options: PostMessageOptions = {}): Promise<Message> {
    const { clientId = newClientId(), ...rest } = options;
    return this.call('POST', `/api/conversations/${encodeURIComponent(id)}/messages`, { ...rest, body: { text, clientId } });
  }

  /** Replaces the text of one of your messages (1.1); it gets `editedAt` and a new `rev`. 409 once it is deleted. */
  editMessage(id: string, seq: number, text: string, options?: RequestOptions): Promise<Message> {
    return this.call('PATCH', messagePath(id, seq), { ...options, body: { text } });
  }

  /** Deletes one of your messages (1.1): answers the tombstone (`text` "", `deletedAt`); again, it changes nothing. */
  deleteMessage(id: string, seq: number, options?: RequestOptions): Promise<Message> {
    return this.call('DELETE', messagePath(id, seq), options);
  }

  private readMessages<T>(id: string, params: Record<string, number | undefined>, signal: AbortSignal | undefined): Promise<T> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, String(value));
    const search = query.toString();
    const path = `/api/conversations/${encodeURIComponent(id)}/messages${search ? `?${search}` : ''}`;
    return this.call('GET', path, { signal });
  }

  private async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers };
    if (options.authenticated !== false && this.token !== undefined) {
      headers.authorization = `Bearer ${await resolveToken(this.token)}`;
    }
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }

    const controller = new AbortController();
    let timedOut = false;
    const timer =
      this.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, this.timeoutMs)
        : undefined;
    const onAbort = () => controller.abort();
    if (options.signal?.aborted) controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const url = `${this.baseUrl}${path}`;
    try {
      let response: FetchResponseLike;
      let text: string;
      try {
        response = await this.fetchImpl(url, { method, headers, signal: controller.signal, ...(body !== undefined ? { body } : {}) });
        text = await response.text();
      } catch (error) {
        if (timedOut) throw new ChatNetworkError(`${method} ${path}: no answer within ${this.timeoutMs} ms`, { cause: error, timedOut: true });
        if (options.signal?.aborted) throw new ChatNetworkError(`${method} ${path}: aborted`, { cause: error });
        throw new ChatNetworkError(`${method} ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      if (response.status < 200 || response.status > 299) {
        throw errorFromBody(response.status, text, retryAfterSeconds(response.headers.get('retry-after')));
      }
      if (text.length === 0) return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        // Not a contract answer (e.g. a proxy's page with a 200): say so rather than return garbage.
        throw new ChatApiError(response.status, 'invalid_response', `${method} ${path}: the answer is not JSON`);
      }
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}
