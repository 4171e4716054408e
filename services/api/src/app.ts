import express, { type Express } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import type { Logger } from '@chat/logger';
import type { PasswordHasher, TokenService } from '@chat/auth';
import type { ConversationStore, MessageStore, RateLimiter, UserStore } from '@chat/store';
import { Counter, Histogram, type Registry } from '@chat/metrics';
import { rememberRouteBase, requestContext } from './http/request-context.js';
import { requireJson } from './http/require-json.js';
import { authenticate } from './http/authenticate.js';
import { errorMiddleware, notFoundRoute } from './http/error-middleware.js';
import { authRoutes } from './routes/auth-routes.js';
import { docsRoutes } from './routes/docs-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { claimedUsername, clientAddress, rateLimit } from './http/rate-limit.js';
import { conversationRoutes } from './routes/conversation-routes.js';
import { messageRoutes, postMessageRoute } from './routes/message-routes.js';
import type { DeliveryEnqueuer } from './delivery/delivery-enqueuer.js';

export interface ApiLimits {
  windowMs: number;
  /** Requests per window per authenticated user. */
  perUser: number;
  /** register/login requests per window per client address. */
  authPerIp: number;
  /** register/login attempts per window per username (against password guessing). */
  authPerUsername: number;
}

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  users: UserStore;
  conversations: ConversationStore;
  messages: MessageStore;
  deliveries: DeliveryEnqueuer;
  passwords: PasswordHasher;
  tokens: TokenService;
  limiter: RateLimiter;
  limits: ApiLimits;
  /** Origins allowed to call the api from a browser; empty = no CORS headers at all. */
  corsOrigins: readonly string[];
  /** express's `trust proxy`: whose X-Forwarded-For to believe for the client address. */
  trustProxy: boolean | number | string;
  bodyLimitBytes: number;
  /** Resolves true when Redis answers. */
  isReady: () => Promise<boolean>;
}

/** The api as an express app, not listening: `main.ts` listens, tests use port 0. */
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

  const app = express();
  app.set('trust proxy', deps.trustProxy);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestContext(deps.logger, duration));
  app.use(helmet());

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (await deps.isReady()) res.json({ status: 'ready' });
    else res.status(503).json({ error: { code: 'unavailable', message: 'Redis is not reachable' } });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });

  // The API's own description: public, before authentication and limits.
  app.use(docsRoutes());

  const { limiter, limits } = deps;
  const window = limits.windowMs;
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
  // Unauthenticated routes are limited per client address and per account being tried; the
  // address only counts there, so many users behind one NAT are not throttled as one.
  api.use(
    '/auth',
    rateLimit(limiter, { scope: 'auth-ip', limit: limits.authPerIp, windowMs: window }, clientAddress),
    rateLimit(limiter, { scope: 'auth-user', limit: limits.authPerUsername, windowMs: window }, claimedUsername),
  );
  // With tokens from an external identity provider (no signing key here) users sign in there.
  if (deps.tokens.canSign) api.use(authRoutes(deps));
  else api.use('/auth', notFoundRoute);
  const requireToken = authenticate(deps.tokens);
  const perUser = { scope: 'user', limit: limits.perUser, windowMs: window };
  // Counts the per-user limit in its own write script: mounted before the limiter below.
  api.use(postMessageRoute({ messages: deps.messages, deliveries: deps.deliveries, accepted, authenticate: requireToken, perUser, limiter }));
  // Only the routes that exist require a token, so an unknown path is a 404 with or without one.
  api.use(['/me', '/conversations'], requireToken, rateLimit(limiter, perUser, (req) => req.username));
  api.use(userRoutes(deps));
  api.use(conversationRoutes(deps));
  api.use(messageRoutes({ messages: deps.messages }));
  app.use('/api', api);

  app.use(notFoundRoute);
  app.use(errorMiddleware);
  return app;
}
