import express, { type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import type { Logger } from '@chat/logger';
import { Counter, Histogram, createOpsHandlers, type Registry } from '@chat/metrics';
import { rememberRouteBase, requestContext } from './http/request-context.js';
import { requireJson } from './http/require-json.js';
import { authenticate } from './http/authenticate.js';
import { errorMiddleware, notFoundRoute } from './http/error-middleware.js';
import { clientAddress, rateLimit } from './http/rate-limit.js';
import { buildAsyncApiDocument } from './asyncapi/build-asyncapi-document.js';
import { buildOpenApiDocument } from './openapi/build-openapi-document.js';
import { ROUTE_TABLE } from './routes/route-table.js';
import type { Access, ApiRoute, RouteDeps } from './routes/route-definition.js';

export interface ApiLimits {
  windowMs: number;
  /** Requests per window per authenticated user. */
  perUser: number;
  /** register/login requests per window per client address (failed logins: the loginFailures guard). */
  authPerIp: number;
}

/** The stores and services the routes use, plus what the app around them needs. */
export interface AppDeps extends Pick<RouteDeps, 'users' | 'conversations' | 'presence' | 'messages' | 'deliveries' | 'intake' | 'backlog' | 'passwords' | 'tokens' | 'limiter' | 'loginFailures'> {
  logger: Logger;
  registry: Registry;
  limits: ApiLimits;
  /** Origins allowed to call the api from a browser; empty = no CORS headers at all. */
  corsOrigins: readonly string[];
  /** express's `trust proxy`: whose X-Forwarded-For to believe for the client address. */
  trustProxy: boolean | number | string;
  bodyLimitBytes: number;
  /** Resolves true when Redis answers. */
  isReady: () => Promise<boolean>;
}

const API_BASE = '/api';

function routesWith(access: Access): ApiRoute[] {
  return ROUTE_TABLE.filter((route) => route.access === access);
}

/** The express path of a route: `:id` for `{id}`, relative to the router it is registered on. */
function expressPath(route: ApiRoute, base: string): string {
  if (!route.path.startsWith(`${base}/`) && base !== '') throw new Error(`${route.operationId}: ${route.path} is not under ${base}`);
  return route.path.slice(base.length).replace(/\{(\w+)\}/g, ':$1');
}

/** The first segments (`/me`, `/conversations`) of these routes' paths below /api, where their guards go. */
function prefixesOf(routes: readonly ApiRoute[]): string[] {
  return [...new Set(routes.map((route) => `/${expressPath(route, API_BASE).split('/')[1] ?? ''}`))];
}

function register(router: Router, base: string, routes: readonly ApiRoute[], deps: RouteDeps, ...guards: RequestHandler[]): void {
  for (const route of routes) router[route.method](expressPath(route, base), [...guards, route.handler(deps)]);
}

/** The api as an express app, not listening: createApi listens, tests may use port 0. */
export function createApp(deps: AppDeps): Express {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [deps.registry],
  });
  const accepted = new Counter({
    name: 'chat_messages_accepted_total',
    help: 'Messages stored and handed to delivery',
    registers: [deps.registry],
  });
  const { limiter, limits } = deps;
  const window = limits.windowMs;
  const perUser = { scope: 'user', limit: limits.perUser, windowMs: window };
  const routeDeps: RouteDeps = {
    users: deps.users,
    conversations: deps.conversations,
    presence: deps.presence,
    messages: deps.messages,
    deliveries: deps.deliveries,
    intake: deps.intake,
    backlog: deps.backlog,
    passwords: deps.passwords,
    tokens: deps.tokens,
    limiter,
    loginFailures: deps.loginFailures,
    perUser,
    accepted,
    ops: createOpsHandlers({ registry: deps.registry, isReady: deps.isReady }),
    // Built once: the document depends only on the code, never on the request.
    document: buildOpenApiDocument(),
    asyncApiDocument: buildAsyncApiDocument(),
  };

  const app = express();
  app.set('trust proxy', deps.trustProxy);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestContext(deps.logger, duration));
  app.use(helmet());

  // Health, metrics and the api's own description: public, before authentication and limits.
  const publicRoutes = express.Router();
  register(publicRoutes, '', routesWith('public'), routeDeps);
  app.use(publicRoutes);

  const api = express.Router();
  api.use(rememberRouteBase);
  if (deps.corsOrigins.length > 0) {
    api.use(
      cors({
        origin: [...deps.corsOrigins],
        allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
        exposedHeaders: ['retry-after', 'x-request-id'],
        maxAge: 600,
      }),
    );
  }
  api.use(requireJson);
  api.use(express.json({ limit: deps.bodyLimitBytes, strict: true, type: 'application/json' }));
  // Unauthenticated routes are limited per client address, generously: it bounds the scrypt work
  // one address can ask for. The address only counts there, so many users behind one NAT are not
  // throttled as one. Password guessing is limited by the login route itself, which alone knows
  // which attempts failed (loginFailures); nothing is limited per username from every address, as
  // that would let anyone lock its owner out.
  const signIn = routesWith('sign-in');
  const signInPrefixes = prefixesOf(signIn);
  api.use(signInPrefixes, rateLimit(limiter, { scope: 'auth-ip', limit: limits.authPerIp, windowMs: window }, clientAddress));
  // With tokens from an external identity provider (no signing key here) users sign in there.
  if (deps.tokens.canSign) register(api, API_BASE, signIn, routeDeps);
  else api.use(signInPrefixes, notFoundRoute);
  const requireToken = authenticate(deps.tokens);
  // Counts the per-user limit in its own write script: registered before the limiter below.
  register(api, API_BASE, routesWith('user-counted-in-script'), routeDeps, requireToken);
  // The token and the limit guard whole prefixes, but only those of routes that exist, so an
  // unknown path elsewhere is a 404 with or without a token.
  const user = routesWith('user');
  api.use(prefixesOf(user), requireToken, rateLimit(limiter, perUser, (req) => req.username));
  register(api, API_BASE, user, routeDeps);
  app.use(API_BASE, api);

  app.use(notFoundRoute);
  app.use(errorMiddleware);
  return app;
}
