import { authRoutes } from './auth-routes.js';
import { conversationRoutes } from './conversation-routes.js';
import { docsRoutes } from './docs-routes.js';
import { messageChangeRoutes } from './message-change-routes.js';
import { messageRoutes } from './message-routes.js';
import { opsRoutes } from './ops-routes.js';
import { presenceRoutes } from './presence-routes.js';
import { userRoutes } from './user-routes.js';
import type { ApiRoute } from './route-definition.js';

/**
 * Every route of the api, in the order the document lists them: app.ts registers exactly these
 * and openapi/build-openapi-document.ts describes exactly these. Add a route here and nowhere else.
 */
export const ROUTE_TABLE: readonly ApiRoute[] = [
  ...authRoutes,
  ...userRoutes,
  ...conversationRoutes,
  ...messageRoutes,
  ...messageChangeRoutes,
  ...presenceRoutes,
  ...opsRoutes,
  ...docsRoutes,
];
