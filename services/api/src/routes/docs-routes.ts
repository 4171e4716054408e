import { z } from 'zod';
import { DOCS_ASSETS, DOCS_ASSET_NAMES, DOCS_PAGE_CSP, DOCS_PAGE_HTML } from '../openapi/docs-viewer.js';
import { defineRoute } from './route-definition.js';

/** The api's own description: public, mounted before authentication and limits. */
export const docsRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openApiDocument',
    tag: 'documentation',
    summary: 'This document, as OpenAPI 3.1 JSON',
    access: 'public',
    success: {
      status: 200,
      description: 'The OpenAPI document.',
      body: { 'application/json': { schema: { type: 'object', description: 'An OpenAPI 3.1 document' } } },
    },
    async handle({ res }, deps) {
      res.json(deps.document);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/docs',
    operationId: 'docsPage',
    tag: 'documentation',
    summary: 'This document, as a readable HTML page',
    description: 'Rendered by swagger-ui, served by this api: nothing is loaded from another origin.',
    access: 'public',
    success: { status: 200, description: 'The HTML page.', body: { 'text/html': { schema: { type: 'string' } } } },
    async handle({ res }) {
      res.setHeader('content-security-policy', DOCS_PAGE_CSP);
      res.type('html').send(DOCS_PAGE_HTML);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/docs/assets/{file}',
    operationId: 'docsAsset',
    tag: 'documentation',
    summary: "A file of the docs page's viewer",
    access: 'public',
    params: { file: { schema: z.enum(DOCS_ASSET_NAMES), what: 'docs asset', description: 'The name of the file.' } },
    success: {
      status: 200,
      description: 'The script or stylesheet.',
      body: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } },
    },
    errors: { 400: 'No such file.' },
    async handle({ res, params }) {
      const asset = DOCS_ASSETS[params.file];
      res.type(asset.type);
      if ('file' in asset) res.sendFile(asset.file);
      else res.send(asset.text);
    },
  }),
];
