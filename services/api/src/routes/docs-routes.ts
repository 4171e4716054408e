import { Router } from 'express';
import { buildOpenApiDocument } from '../openapi/build-openapi-document.js';
import { renderDocsPage } from '../openapi/render-docs-page.js';

/**
 * GET /api/openapi.json and GET /api/docs. Public, and needs nothing from the request, so mount it
 * on the app before authentication (`app.use(docsRoutes())`); the paths are absolute.
 */
export function docsRoutes(): Router {
  // Built once: the document depends only on the code, never on the request.
  const document = buildOpenApiDocument();
  const page = renderDocsPage(document);
  const router = Router();

  router.get('/api/openapi.json', (_req, res) => {
    res.json(document);
  });

  router.get('/api/docs', (_req, res) => {
    // Stricter than helmet's default: the page needs its own inline style and nothing else.
    res.setHeader('content-security-policy', page.contentSecurityPolicy);
    res.type('html').send(page.html);
  });

  return router;
}
