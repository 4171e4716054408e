import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The /api/docs page: swagger-ui (the `swagger-ui-dist` bundle) reading /api/openapi.json, every
 * file served by the api itself, so the page works without internet and through the edge (which
 * sends /api/* here).
 */

const ASSETS_PATH = '/api/docs/assets';
const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Starts the viewer. A file, not inline, so the page's CSP can refuse every inline script. */
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // No badge from validator.swagger.io: the page fetches nothing from elsewhere.
  validatorUrl: null,
});
`;

type DocsAsset = { type: 'text/javascript' | 'text/css' } & ({ file: string } | { text: string });

/** Every file the page loads, by the name in its URL. */
export const DOCS_ASSETS = {
  'swagger-ui-bundle.js': { type: 'text/javascript', file: join(swaggerUiDir, 'swagger-ui-bundle.js') },
  'swagger-ui.css': { type: 'text/css', file: join(swaggerUiDir, 'swagger-ui.css') },
  'docs-init.js': { type: 'text/javascript', text: INIT_SCRIPT },
} as const satisfies Record<string, DocsAsset>;

export const DOCS_ASSET_NAMES = Object.keys(DOCS_ASSETS) as [keyof typeof DOCS_ASSETS, ...(keyof typeof DOCS_ASSETS)[]];

export const DOCS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat delivery API</title>
<link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${ASSETS_PATH}/docs-init.js"></script>
</body>
</html>
`;

/**
 * What swagger-ui needs and nothing more: its script and stylesheet from here, the document (and
 * "Try it out" requests) to here, and the icons its stylesheet carries as data: URIs.
 */
export const DOCS_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
