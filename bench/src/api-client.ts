import { Agent, request } from 'node:http';
import { Pool } from 'undici';

export interface ApiAnswer {
  status: number;
  /** The parsed JSON body; only read when the caller asks for it (see `postMessage`). */
  body: unknown;
}

/** How a POST ended: an HTTP status, or a network failure / timeout (status 0). */
export interface PostOutcome {
  status: number;
  /** The contract's error code, or the network error's code, when it did not succeed. */
  errorCode?: string;
}

export interface RegisteredUser {
  username: string;
  token: string;
}

export interface Conversation {
  id: string;
  users: string[];
}

/** The api failed a set-up call (register, create conversation): the run cannot go on. */
class ApiSetupError extends Error {
  constructor(what: string, status: number, body: unknown) {
    super(`${what} answered ${status}: ${JSON.stringify(body).slice(0, 300)}`);
    this.name = this.constructor.name;
  }
}

const REQUEST_TIMEOUT_MS = 30_000;

function errorCodeOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = body.error;
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * The api's public REST contract over one keep-alive agent. Every call carries the caller's JWT.
 * `postMessage` is the hot path: it never parses a 201 body (the nonce in the text identifies the
 * message), and reports failures as outcomes rather than exceptions.
 */
export class ApiClient {
  readonly agent: Agent;
  private readonly pool: Pool;
  private readonly host: string;
  private readonly port: number;
  private readonly basePath: string;

  constructor(apiUrl: string, maxSockets: number) {
    const url = new URL(apiUrl);
    if (url.protocol !== 'http:') throw new Error(`--target must be an http:// URL (got ${apiUrl})`);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    this.basePath = url.pathname.replace(/\/$/, '');
    // One pool of kept-alive connections for everything; scheduling is FIFO so the oldest post goes first.
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
    this.pool = new Pool(url.origin, { connections: maxSockets, keepAliveTimeout: 60_000 });
  }

  /** Sends one JSON request and resolves with the status and parsed body. Rejects on network errors. */
  call(method: string, path: string, body: unknown, token?: string): Promise<ApiAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.host,
          port: this.port,
          method,
          path: this.basePath + path,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            if (text !== '') {
              try {
                parsed = JSON.parse(text);
              } catch (error) {
                if (!(error instanceof SyntaxError)) throw error;
              }
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async register(username: string, password: string): Promise<RegisteredUser> {
    const answer = await this.call('POST', '/api/auth/register', { username, password });
    if (answer.status !== 201) throw new ApiSetupError(`register ${username}`, answer.status, answer.body);
    const token = (answer.body as { token?: unknown }).token;
    if (typeof token !== 'string') throw new ApiSetupError(`register ${username} (no token)`, answer.status, answer.body);
    return { username, token };
  }

  async createConversation(creator: RegisteredUser, title: string, others: string[]): Promise<Conversation> {
    const answer = await this.call('POST', '/api/conversations', { title, users: others }, creator.token);
    if (answer.status !== 201) throw new ApiSetupError(`create conversation "${title}"`, answer.status, answer.body);
    const conversation = answer.body as { id?: unknown; users?: unknown };
    if (typeof conversation.id !== 'string' || !Array.isArray(conversation.users)) {
      throw new ApiSetupError(`create conversation "${title}" (unexpected body)`, answer.status, answer.body);
    }
    return { id: conversation.id, users: conversation.users.filter((user): user is string => typeof user === 'string') };
  }

  /**
   * POST a message. Resolves (never rejects) once the answer is in, or the request failed. The hot
   * path goes through undici's pool rather than node:http: the generator shares the machine's two
   * cores with the services it measures, so its own cost per request is part of every figure.
   */
  async postMessage(conversationId: string, text: string, token: string): Promise<PostOutcome> {
    try {
      const { statusCode, body } = await this.pool.request({
        method: 'POST',
        path: `${this.basePath}/api/conversations/${encodeURIComponent(conversationId)}/messages`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: `{"text":${JSON.stringify(text)}}`,
        headersTimeout: REQUEST_TIMEOUT_MS,
        bodyTimeout: REQUEST_TIMEOUT_MS,
      });
      if (statusCode === 201) {
        // The body is not needed; draining it keeps the connection reusable.
        await body.dump();
        return { status: statusCode };
      }
      let code = 'unparsable_body';
      try {
        code = errorCodeOf(JSON.parse(await body.text())) ?? 'no_error_code';
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
      }
      return { status: statusCode, errorCode: code };
    } catch (error) {
      const failure = error as NodeJS.ErrnoException;
      return { status: 0, errorCode: failure.code ?? failure.message };
    }
  }

  close(): void {
    this.agent.destroy();
    void this.pool.destroy();
  }
}
