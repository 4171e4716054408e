import type { Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { ContentObject, OpenAPIObject } from 'openapi3-ts/oas31';
import type { PasswordHasher, TokenService } from '@chat/auth';
import type { Counter, OpsHandler, OpsPath } from '@chat/metrics';
import type { ConversationStore, LoginFailureGuard, MessageStore, PresenceStore, RateLimit, RateLimiter, UserStore } from '@chat/store';
import type { BacklogGuard } from '../delivery/backlog-guard.js';
import type { DeliveryEnqueuer } from '../delivery/delivery-enqueuer.js';
import type { IntakeGuard } from '../delivery/intake-guard.js';
import { validate } from '../http/validate.js';

export type HttpMethod = 'get' | 'post' | 'patch' | 'put' | 'delete';

/** The error statuses of the contract; each is documented with the `Error` body. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;

/**
 * Who may call a route. It decides which guards run ahead of the handler (app.ts mounts them) and
 * so which error statuses every such route documents (openapi/route-errors.ts):
 * - `public`: health, metrics and these docs; outside /api's body parsing, CORS and limits.
 * - `sign-in`: /api/auth; limited per client address (login also counts its failures), and present
 *   only when this api signs tokens (404 otherwise: users sign in at the identity provider).
 * - `user`: a bearer token and the per-user limit, checked for the whole path prefix ahead of it.
 * - `user-counted-in-script`: a bearer token checked by the route itself; the per-user limit is
 *   counted inside the script that stores, saving a round trip on the hottest route.
 */
export type Access = 'public' | 'sign-in' | 'user' | 'user-counted-in-script';

export type Tag = 'auth' | 'users' | 'conversations' | 'messages' | 'operations' | 'documentation';

export interface PathParam<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** Names the parameter in a 400's message: `invalid conversation id: …`. */
  what: string;
  description: string;
}

export interface QuerySpec<S extends z.ZodObject = z.ZodObject> {
  schema: S;
  /** One per property of `schema`; the document says what each parameter means. */
  descriptions: Record<string, string>;
}

/** What a route needs to answer; created once per app by createApp. */
export interface RouteDeps {
  users: UserStore;
  conversations: ConversationStore;
  presence: PresenceStore;
  messages: MessageStore;
  deliveries: DeliveryEnqueuer;
  /** Refuses new messages while the api's own event loop runs too late. */
  intake: IntakeGuard;
  /** Refuses new messages while the delivery backlog is over its bound. */
  backlog: BacklogGuard;
  passwords: PasswordHasher;
  tokens: TokenService;
  limiter: RateLimiter;
  /** Failed logins per (username, client address) and per address. */
  loginFailures: LoginFailureGuard;
  /** The per-user rule, for the route that counts it in its own write script. */
  perUser: RateLimit;
  /** Messages stored and handed to delivery. */
  accepted: Counter;
  /** The shared /healthz, /readyz and /metrics answers. */
  ops: Record<OpsPath, OpsHandler>;
  /** The api's own OpenAPI document, built from the route table. */
  document: OpenAPIObject;
  /** The gateway's WebSocket frames as an AsyncAPI document, built from the frame schemas. */
  asyncApiDocument: Record<string, unknown>;
}

/**
 * Everything the OpenAPI document says about a route. The body and the JSON answer are zod
 * schemas named in openapi/components.ts: the same schemas the route validates with.
 */
export interface RouteDoc {
  method: HttpMethod;
  /** OpenAPI path template (`{id}` where express has `:id`); routes not `public` are under /api. */
  path: string;
  operationId: string;
  tag: Tag;
  summary: string;
  description?: string;
  access: Access;
  /** Path parameters, validated in this order before the handler runs. */
  params?: Record<string, PathParam>;
  query?: QuerySpec;
  body?: z.ZodType;
  /** false: the body may be left out (a POST that needs none); when it is sent, `body` checks it. Default true. */
  bodyRequired?: boolean;
  /**
   * The answer: a named JSON schema, several (the request decides which one answers), content that
   * is not JSON data (text, HTML, assets), or none (204).
   */
  success: {
    status: 200 | 201 | 204;
    description: string;
    body?: z.ZodType | readonly z.ZodType[] | ContentObject;
    /** Another success status with the same body (a repeated POST answered with what it stored first). */
    also?: { status: 200; description: string };
  };
  /** Why this route gives each error status, beyond what its access and body imply. */
  errors?: Partial<Record<ErrorStatus, string>>;
}

/** A row of the route table: the document's facts and the handler, bound to deps by createApp. */
export interface ApiRoute extends RouteDoc {
  handler(deps: RouteDeps): RequestHandler;
}

type ParamValues<P> = { [K in keyof P]: P[K] extends PathParam<infer S> ? z.output<S> : never };
type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<P, Q, B> {
  req: Request;
  res: Response;
  params: ParamValues<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
}

export interface RouteSpec<P extends Record<string, PathParam>, Q extends z.ZodObject | undefined, B extends z.ZodType | undefined>
  extends Omit<RouteDoc, 'params' | 'query' | 'body'> {
  params?: P;
  query?: QuerySpec<NonNullable<Q>>;
  body?: B;
  /** Runs with params, query and body already validated (a failure is one readable 400). */
  handle(input: RouteInput<P, Q, B>, deps: RouteDeps): Promise<void>;
}

/** A route: its handler gets validated, typed input from the same schemas the document shows. */
export function defineRoute<
  P extends Record<string, PathParam> = Record<never, PathParam>,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>): ApiRoute {
  const { handle, ...doc } = spec;
  return {
    ...doc,
    handler: (deps) => async (req, res) => {
      const params: Record<string, unknown> = {};
      for (const [name, param] of Object.entries(spec.params ?? {})) params[name] = validate(param.schema, req.params[name], param.what);
      const query = spec.query ? validate(spec.query.schema, req.query, 'query') : undefined;
      // express.json leaves req.body undefined when no body was sent (or one it does not parse,
      // which requireJson refused already).
      const omitted = spec.bodyRequired === false && req.body === undefined;
      const body = spec.body && !omitted ? validate(spec.body, req.body, 'body') : undefined;
      await handle({ req, res, params, query, body } as RouteInput<P, Q, B>, deps);
    },
  };
}
