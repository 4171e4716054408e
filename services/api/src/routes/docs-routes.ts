import { z } from 'zod';
import { DOCS_ASSETS, DOCS_ASSET_NAMES, DOCS_PAGE_CSP, DOCS_PAGE_HTML } from '../openapi/docs-viewer.js';
import { defineRoute, type RouteDeps } from './route-definition.js';

/** A public route answering one of the documents built at start-up (RouteDeps). */
function documentRoute(spec: {
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** The document's kind, for the answer's description: `OpenAPI 3.1`. */
  kind: string;
  document: (deps: RouteDeps) => object;
}) {
  return defineRoute({
    method: 'get',
    path: spec.path,
    operationId: spec.operationId,
    tag: 'documentation',
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    access: 'public',
    success: {
      status: 200,
      description: `The ${spec.kind.split(' ')[0]} document.`,
      body: { 'application/json': { schema: { type: 'object', description: `An ${spec.kind} document` } } },
    },
    async handle({ res }, deps) {
      res.json(spec.document(deps));
    },
  });
}

/** The api's own description, and the gateway's: public, mounted before authentication and limits. */
export const docsRoutes = [
  documentRoute({
    path: '/api/openapi.json',
    operationId: 'openApiDocument',
    summary: 'This document, as OpenAPI 3.1 JSON',
    kind: 'OpenAPI 3.1',
    document: (deps) => deps.document,
  }),
  documentRoute({
    path: '/api/asyncapi.json',
    operationId: 'asyncApiDocument',
    summary: "The gateway's WebSocket frames, as AsyncAPI 3.0 JSON",
    description: 'Generated from the zod schemas the gateway validates and builds its frames with.',
    kind: 'AsyncAPI 3.0',
    document: (deps) => deps.asyncApiDocument,
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
