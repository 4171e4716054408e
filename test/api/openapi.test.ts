import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Express } from 'express';
import jwt from 'jsonwebtoken';
import type { OpenAPIObject, OperationObject, ParameterObject, ReferenceObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import { z } from 'zod';
import {
  createConversationSchema,
  credentialsSchema,
  editMessageSchema,
  emptyBodySchema,
  markReadSchema,
  postMessageSchema,
  updateConversationSchema,
} from '@chat/contracts';
import { buildOpenApiDocument } from '../../services/api/src/openapi/build-openapi-document.js';
import { startApiInProcess, type ApiInProcess } from '../support/api-app.js';
import {
  ISO_UTC,
  apiRequest,
  createConversation,
  postMessage,
  randomUsername,
  registerUser,
  type ApiRequestOptions,
  type ApiResponse,
  type ConversationBody,
  type HttpMethod,
  type RegisteredUser,
} from '../support/api-client.js';

/**
 * The OpenAPI document, checked against the running app: the routes express registered are
 * exactly the documented operations, every documented route answers only documented statuses with
 * bodies that match the documented schemas, and every documented status is one the app really gives.
 */

const document: OpenAPIObject = buildOpenApiDocument();

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
const METHODS = ['get', 'post', 'patch', 'put', 'delete'] as const;

/** Request bodies, the contract schema each must be generated from, and whether it may be left out. */
const REQUEST_BODIES = [
  { name: 'Credentials', schema: credentialsSchema, routes: ['post /api/auth/register', 'post /api/auth/login'], required: true },
  { name: 'CreateConversation', schema: createConversationSchema, routes: ['post /api/conversations'], required: true },
  { name: 'UpdateConversation', schema: updateConversationSchema, routes: ['patch /api/conversations/{id}'], required: true },
  { name: 'PostMessage', schema: postMessageSchema, routes: ['post /api/conversations/{id}/messages'], required: true },
  { name: 'EmptyBody', schema: emptyBodySchema, routes: ['post /api/conversations/{id}/leave'], required: false },
  { name: 'MarkRead', schema: markReadSchema, routes: ['put /api/conversations/{id}/read'], required: true },
  { name: 'EditMessage', schema: editMessageSchema, routes: ['patch /api/conversations/{id}/messages/{seq}'], required: true },
] as const;

const REF_PREFIX = '#/components/schemas/';
const AJV_BASE = 'https://openapi.test/schemas/';

function operations(): { method: Method; path: string; operation: OperationObject }[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = item[method];
      return operation ? [{ method, path, operation }] : [];
    }),
  );
}

function operationOf(method: Method, path: string): OperationObject {
  const operation = document.paths?.[path]?.[method];
  assert.ok(operation, `the document has ${method.toUpperCase()} ${path}`);
  return operation;
}

/** The document never uses `$ref` for a response, parameter or body; this says so where it matters. */
function inline<T extends object>(value: T | ReferenceObject | undefined, what: string): T {
  assert.ok(value && !('$ref' in value), `${what} is written out, not a $ref`);
  return value as T;
}

function responsesOf(operation: OperationObject): Record<string, ResponseObject> {
  return Object.fromEntries(Object.entries(operation.responses ?? {}).map(([status, response]) => [status, inline<ResponseObject>(response, status)]));
}

function parametersOf(operation: OperationObject): ParameterObject[] {
  return (operation.parameters ?? []).map((parameter) => inline<ParameterObject>(parameter, 'a parameter'));
}

/** True when the operation needs `Authorization: Bearer`. */
function needsToken(operation: OperationObject): boolean {
  return (operation.security ?? []).length > 0;
}

function schemas(): Record<string, SchemaObject> {
  return (document.components?.schemas ?? {}) as Record<string, SchemaObject>;
}

/** Every `$ref` anywhere below `value`. */
function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === '$ref' && typeof inner === 'string' ? [inner] : refsIn(inner)));
}

/** A deep copy whose component `$ref`s point at absolute ids, so ajv can hold every component at once. */
function rebased(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebased);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' && inner.startsWith(REF_PREFIX) ? `${AJV_BASE}${inner.slice(REF_PREFIX.length)}` : rebased(inner),
    ]),
  );
}

/** Ajv (strict, draft 2020-12: the dialect of OpenAPI 3.1) holding every component schema. */
function createSchemaValidator(): (schema: SchemaObject | ReferenceObject, value: unknown) => string | undefined {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addFormat('date-time', ISO_UTC);
  for (const [name, schema] of Object.entries(schemas())) {
    ajv.addSchema({ ...(rebased(schema) as object), $id: `${AJV_BASE}${name}` });
  }
  const compiled = new Map<SchemaObject | ReferenceObject, ValidateFunction>();
  return (schema, value) => {
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(rebased(schema) as object);
      compiled.set(schema, validate);
    }
    return validate(value) ? undefined : ajv.errorsText(validate.errors);
  };
}

const validateAgainst = createSchemaValidator();

function component(name: string): SchemaObject {
  const schema = schemas()[name];
  assert.ok(schema, `components.schemas.${name} exists`);
  return schema;
}

function resolve(schema: SchemaObject | ReferenceObject): SchemaObject {
  const ref = schema.$ref;
  if (ref === undefined) return schema as SchemaObject;
  assert.ok(ref.startsWith(REF_PREFIX), `${ref} is a component reference`);
  return component(ref.slice(REF_PREFIX.length));
}

/**
 * Asserts that `response` is one the document describes for this operation: a documented status,
 * a documented content type, and (for JSON) a body valid against the documented schema, with every
 * required property present.
 */
function assertDocumented(method: Method, path: string, response: ApiResponse): void {
  const where = `${method.toUpperCase()} ${path} answered ${response.status}`;
  const responses = responsesOf(operationOf(method, path));
  const documented = responses[String(response.status)];
  assert.ok(documented, `${where}, but documents only ${Object.keys(responses).join(', ')}: ${response.text.slice(0, 300)}`);
  if (documented.content === undefined) {
    assert.equal(response.text, '', `${where}: documented without a body, answered one`);
    return;
  }
  const contentType = response.headers.get('content-type') ?? '';
  const media = Object.entries(documented.content ?? {}).find(([type]) => contentType.startsWith(type));
  assert.ok(media, `${where} with content-type ${contentType}; documented: ${Object.keys(documented.content ?? {}).join(', ')}`);
  for (const header of Object.keys(documented.headers ?? {})) {
    assert.ok(response.headers.get(header) !== null, `${where} without the documented header ${header}`);
  }
  const [type, { schema }] = media;
  if (type !== 'application/json' || !schema) return;
  const problem = validateAgainst(schema, response.body);
  assert.equal(problem, undefined, `${where}: body does not match the documented schema: ${problem}\n${response.text.slice(0, 500)}`);
  const resolved = resolve(schema);
  for (const property of resolved.required ?? []) {
    assert.ok(typeof response.body === 'object' && response.body !== null && property in response.body, `${where}: no required property ${property}`);
  }
}

describe('the OpenAPI document', () => {
  test('is OpenAPI 3.1 and valid according to @apidevtools/swagger-parser', async () => {
    assert.match(document.openapi, /^3\.1\.\d+$/);
    assert.ok(document.info.title.length > 0 && document.info.version.length > 0);
    // validate() dereferences in place: give it a copy (JSON, as a client would read it).
    await SwaggerParser.validate(JSON.parse(JSON.stringify(document)));
  });

  test('every operation has a summary, an operationId and a security that says bearer or nothing', () => {
    const bearer = document.components?.securitySchemes?.bearerAuth;
    assert.deepEqual(bearer, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: inline(bearer, 'bearerAuth').description });
    for (const { method, path, operation } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      // Which routes need a token is checked against the running app below, not against a list here.
      assert.deepEqual(operation.security, needsToken(operation) ? [{ bearerAuth: [] }] : [], `${where} security`);
      if (needsToken(operation)) assert.ok('401' in responsesOf(operation), `${where}: a token route documents 401`);
      assert.ok((operation.summary ?? '').length > 0, `${where} has a summary`);
      assert.ok(/^[a-zA-Z]+$/.test(operation.operationId ?? ''), `${where} has an operationId`);
    }
    const operationIds = operations().map(({ operation }) => operation.operationId);
    assert.equal(new Set(operationIds).size, operationIds.length, 'operationIds are unique');
  });

  test('the docs routes themselves are documented and public', () => {
    assert.deepEqual(operationOf('get', '/api/openapi.json').security, []);
    assert.deepEqual(operationOf('get', '/api/docs').security, []);
  });

  test('every $ref points at an existing component', () => {
    for (const ref of refsIn(document)) {
      assert.ok(ref.startsWith(REF_PREFIX), `${ref} is a component reference`);
      component(ref.slice(REF_PREFIX.length));
    }
  });

  test('every component is a valid JSON Schema (ajv, strict, draft 2020-12) and an object', () => {
    // createSchemaValidator() above already compiled every component; this checks the shapes too.
    const ajv = new Ajv2020({ strict: true });
    ajv.addFormat('date-time', ISO_UTC);
    for (const [name, schema] of Object.entries(schemas())) {
      assert.equal(schema.type, 'object', `${name} is an object schema`);
      assert.equal((schema as Record<string, unknown>).$schema, undefined, `${name}: no $schema inside an OpenAPI document`);
      assert.equal(ajv.validateSchema(rebased(schema) as object), true, `${name}: ${ajv.errorsText(ajv.errors)}`);
    }
  });

  test('request bodies are generated from the zod schemas the routes validate with, strict', () => {
    for (const { name, schema, routes, required } of REQUEST_BODIES) {
      const documented = component(name);
      assert.equal(documented.additionalProperties, false, `${name} refuses unknown fields`);
      const { $schema: _dialect, ...generated } = z.toJSONSchema(schema, { io: 'input' });
      const { minProperties: _refinement, description: _note, ...rest } = documented;
      const { description: _generatedNote, ...generatedRest } = generated;
      assert.deepEqual(rest, generatedRest, `${name} is the zod schema's JSON Schema`);
      for (const route of routes) {
        const [method, path] = route.split(' ') as [Method, string];
        const body = inline(operationOf(method, path).requestBody, `${route} body`);
        assert.equal(body.required, required, `${route} ${required ? 'requires a body' : 'may be sent without a body'}`);
        assert.deepEqual(body.content['application/json']?.schema, { $ref: `${REF_PREFIX}${name}` }, `${route} body is ${name}`);
      }
    }
    assert.equal(component('UpdateConversation').minProperties, 1, 'the refinement "title, users or both" is stated');
  });

  test('the generated request schemas agree with zod on sample bodies', () => {
    const samples: { name: string; schema: z.ZodType; body: unknown }[] = [
      { name: 'Credentials', schema: credentialsSchema, body: { username: 'alice', password: 'long enough' } },
      { name: 'Credentials', schema: credentialsSchema, body: { username: 'Alice', password: 'long enough' } },
      { name: 'Credentials', schema: credentialsSchema, body: { username: 'alice', password: 'short' } },
      { name: 'Credentials', schema: credentialsSchema, body: { username: 'alice', password: 'long enough', admin: true } },
      { name: 'Credentials', schema: credentialsSchema, body: { username: 'alice' } },
      { name: 'CreateConversation', schema: createConversationSchema, body: { title: 'hi', users: ['bob'] } },
      { name: 'CreateConversation', schema: createConversationSchema, body: { title: 'hi', users: 'bob' } },
      { name: 'CreateConversation', schema: createConversationSchema, body: { title: '', users: [] } },
      { name: 'UpdateConversation', schema: updateConversationSchema, body: { title: 'renamed' } },
      { name: 'UpdateConversation', schema: updateConversationSchema, body: { users: ['bob'] } },
      { name: 'UpdateConversation', schema: updateConversationSchema, body: {} },
      { name: 'UpdateConversation', schema: updateConversationSchema, body: { title: 'x', color: 'red' } },
      { name: 'PostMessage', schema: postMessageSchema, body: { text: 'hello' } },
      { name: 'PostMessage', schema: postMessageSchema, body: { text: '' } },
      { name: 'PostMessage', schema: postMessageSchema, body: { text: 'x'.repeat(4001) } },
      { name: 'PostMessage', schema: postMessageSchema, body: { text: 42 } },
      { name: 'EmptyBody', schema: emptyBodySchema, body: {} },
      { name: 'EmptyBody', schema: emptyBodySchema, body: { reason: 'x' } },
      { name: 'EmptyBody', schema: emptyBodySchema, body: [] },
    ];
    for (const { name, schema, body } of samples) {
      const zodAccepts = schema.safeParse(body).success;
      const documentAccepts = validateAgainst(component(name), body) === undefined;
      assert.equal(documentAccepts, zodAccepts, `${name} ${JSON.stringify(body).slice(0, 80)}: zod ${zodAccepts}, document ${documentAccepts}`);
    }
  });

  test('the list query of messages is documented from listMessagesQuerySchema', () => {
    const parameters = parametersOf(operationOf('get', '/api/conversations/{id}/messages'));
    assert.deepEqual(
      parameters.map((parameter) => [parameter.name, parameter.in, parameter.required]),
      [
        ['id', 'path', true],
        ['after', 'query', false],
        ['before', 'query', false],
        ['limit', 'query', false],
      ],
    );
    for (const parameter of parameters) assert.ok((parameter.description ?? '').length > 0, `${parameter.name} is described`);
  });

  test('responses: User, Conversation, Message, AuthResult, the list wrappers and Error', () => {
    const successes: [Method, string, string, string | string[]][] = [
      ['post', '/api/auth/register', '201', 'AuthResult'],
      ['post', '/api/auth/login', '200', 'AuthResult'],
      ['get', '/api/me', '200', 'User'],
      ['get', '/api/conversations', '200', 'ConversationList'],
      ['post', '/api/conversations', '201', 'Conversation'],
      ['get', '/api/conversations/{id}', '200', 'Conversation'],
      ['patch', '/api/conversations/{id}', '200', 'Conversation'],
      ['get', '/api/conversations/{id}/messages', '200', ['MessagePage', 'MessagePageBefore']],
      ['post', '/api/conversations/{id}/messages', '201', 'Message'],
      ['patch', '/api/conversations/{id}/messages/{seq}', '200', 'Message'],
      ['delete', '/api/conversations/{id}/messages/{seq}', '200', 'Message'],
      ['get', '/api/presence', '200', 'PresenceList'],
    ];
    const ref = (name: string) => ({ $ref: `${REF_PREFIX}${name}` });
    const left = responsesOf(operationOf('post', '/api/conversations/{id}/leave'))['204'];
    assert.ok(left, 'leave answers 204');
    assert.equal(left.content, undefined, 'with no body');
    for (const [method, path, status, name] of successes) {
      const response = responsesOf(operationOf(method, path))[status];
      // Several names: the query decides which of them answers.
      const expected = Array.isArray(name) ? { oneOf: name.map(ref) } : ref(name);
      assert.deepEqual(response?.content?.['application/json']?.schema, expected, `${method} ${path} ${status}`);
    }
    assert.deepEqual(component('User').required, ['username', 'createdAt']);
    assert.deepEqual(component('Conversation').required, [
      'id',
      'title',
      'users',
      'createdAt',
      'createdBy',
      'lastSeq',
      'lastMessageAt',
      'readSeq',
      'unread',
    ]);
    assert.deepEqual(component('ReadState').required, ['conversationId', 'readSeq', 'unread']);
    assert.deepEqual(component('Message').required, ['id', 'conversationId', 'seq', 'rev', 'author', 'text', 'createdAt']);
    assert.deepEqual(component('AuthResult').required, ['user', 'token', 'expiresAt']);
    assert.deepEqual(component('MessagePage').required, ['items', 'nextAfter']);
    assert.deepEqual(component('MessagePageBefore').required, ['items', 'nextBefore']);
    assert.deepEqual(component('ConversationList').required, ['items']);
    const error = component('Error');
    assert.deepEqual(error.required, ['error']);
    assert.equal(error.additionalProperties, false);
    const inner = inline<SchemaObject>(error.properties?.error, 'Error.error');
    assert.deepEqual(inner.required, ['code', 'message']);
    assert.equal(validateAgainst(error, { error: { code: 'not_found', message: 'no such route' } }), undefined);
    assert.notEqual(validateAgainst(error, { error: { code: 'not_found' } }), undefined);
    assert.notEqual(validateAgainst(error, { message: 'x' }), undefined);
  });

  test('every route documents its error statuses, each with the Error body and matching examples', () => {
    /** The error statuses of the contract's routes (each one is also seen from the app below). */
    const expected: Record<string, number[]> = {
      'post /api/auth/register': [400, 404, 409, 413, 415, 429, 503],
      'post /api/auth/login': [400, 401, 404, 413, 415, 429, 503],
      'get /api/me': [401, 404, 429, 503],
      'get /api/conversations': [400, 401, 429, 503],
      'post /api/conversations': [400, 401, 413, 415, 429, 503],
      'get /api/conversations/{id}': [400, 401, 404, 429, 503],
      'patch /api/conversations/{id}': [400, 401, 404, 413, 415, 429, 503],
      'post /api/conversations/{id}/leave': [400, 401, 404, 413, 415, 429, 503],
      'get /api/conversations/{id}/messages': [400, 401, 404, 429, 503],
      'post /api/conversations/{id}/messages': [400, 401, 404, 409, 413, 415, 429, 503],
      'put /api/conversations/{id}/read': [400, 401, 404, 413, 415, 429, 503],
      'patch /api/conversations/{id}/messages/{seq}': [400, 401, 403, 404, 409, 413, 415, 429, 503],
      'delete /api/conversations/{id}/messages/{seq}': [400, 401, 403, 404, 429, 503],
      'get /api/presence': [400, 401, 429, 503],
      'get /healthz': [],
      'get /readyz': [503],
      'get /metrics': [],
    };
    const expectedCodes: Record<number, string[]> = {
      401: ['unauthenticated'],
      403: ['forbidden'],
      404: ['not_found'],
      409: ['conflict'],
      413: ['payload_too_large'],
      415: ['unsupported_media_type'],
      429: ['rate_limited'],
      503: ['unavailable'],
    };
    for (const route of Object.keys(expected)) {
      const [method, path] = route.split(' ') as [Method, string];
      operationOf(method, path);
    }
    for (const { method, path, operation } of operations()) {
      const route = `${method} ${path}`;
      const responses = responsesOf(operation);
      const statuses = Object.keys(responses).filter((status) => !status.startsWith('2')).map(Number);
      if (expected[route]) assert.deepEqual(statuses, expected[route], `${route} error statuses`);
      for (const status of statuses) {
        const response = responses[String(status)];
        assert.ok(response && response.description.length > 0, `${route} ${status} is described`);
        const media = response.content?.['application/json'];
        assert.deepEqual(media?.schema, { $ref: `${REF_PREFIX}Error` }, `${route} ${status} has the Error body`);
        const examples = Object.values(media?.examples ?? {}).map((example) => inline(example, `${route} ${status} example`));
        const codes = examples.map((example) => (example.value as { error: { code: string } }).error.code);
        const wanted = status === 400 ? (operation.requestBody ? ['invalid_json', 'invalid_request'] : ['invalid_request']) : expectedCodes[status];
        assert.deepEqual(codes, wanted, `${route} ${status} codes`);
        for (const example of examples) assert.equal(validateAgainst(component('Error'), example.value), undefined, `${route} ${status} example`);
        if (status === 429) assert.ok(response.headers?.['Retry-After'], `${route} 429 documents Retry-After`);
      }
    }
  });
});

/** Polls /readyz (there is no event to wait on) until 200, failing loudly after `timeoutMs`. */
async function waitUntilReady(baseUrl: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await apiRequest(baseUrl, 'GET', '/readyz')).status !== 200) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for /readyz to answer 200`);
    await new Promise((resolveLater) => setTimeout(resolveLater, 50));
  }
}

/** The CSP of the docs page, directive by directive: what swagger-ui needs and nothing more. */
const DOCS_CSP: Record<string, string> = {
  'default-src': "'none'",
  'script-src': "'self'",
  'style-src': "'self'",
  // swagger-ui's stylesheet carries its icons as data: URIs.
  'img-src': "'self' data:",
  // The document itself, and "Try it out" requests.
  'connect-src': "'self'",
  'base-uri': "'none'",
  'form-action': "'none'",
  'frame-ancestors': "'none'",
};

/**
 * Checks the docs page's own HTML: it loads the viewer's files from this api only (no CDN, no
 * inline script or style) under a CSP that allows exactly that. Returns the URLs it loads.
 * (test/api/docs-page.test.ts renders it in Chromium.)
 */
function assertDocsPage(response: ApiResponse): string[] {
  assert.equal(response.status, 200, response.text.slice(0, 300));
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  const html = response.text;
  assert.match(html, /^<!doctype html>/i);
  assert.doesNotMatch(html, /<script\b(?![^>]*\bsrc=)[^>]*>/i, 'no inline script');
  assert.doesNotMatch(html, /<style|\bstyle=/i, 'no inline style');
  assert.doesNotMatch(html, /<(img|iframe|object|embed)\b/i, 'nothing else embedded');
  assert.doesNotMatch(html, /https?:\/\//, 'no absolute URL (no CDN, no network)');
  const loaded = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/gi)].map((match) => match[1] ?? '');
  assert.ok(loaded.some((url) => url.endsWith('.js')) && loaded.some((url) => url.endsWith('.css')), `a script and a stylesheet: ${loaded.join(', ')}`);
  for (const url of loaded) assert.match(url, /^\/api\/docs\/assets\/[\w.-]+$/, `${url} is served by the api under /api/docs/assets`);

  const csp = response.headers.get('content-security-policy') ?? '';
  const directives = Object.fromEntries(
    csp.split(';').map((directive) => {
      const [name = '', ...values] = directive.trim().split(/\s+/);
      return [name, values.join(' ')];
    }),
  );
  assert.deepEqual(directives, DOCS_CSP, `the CSP allows exactly what the viewer needs: ${csp}`);
  return loaded;
}

/**
 * What express really registered, as `method /openapi/{path}`: every route of the app and of the
 * routers it mounts (middleware such as the token guard is not a route).
 */
function registeredRoutes(app: Express): string[] {
  interface Layer {
    route?: { path: string; methods: Record<string, boolean> };
    handle: { stack?: Layer[] };
    rawPath?: string;
  }
  const found: string[] = [];
  function walk(stack: readonly Layer[], prefix: string): void {
    for (const layer of stack) {
      if (layer.route) {
        const path = `${prefix}${layer.route.path}`.replace(/:(\w+)/g, '{$1}');
        for (const method of Object.keys(layer.route.methods)) found.push(`${method} ${path}`);
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, `${prefix}${layer.rawPath === '/' ? '' : (layer.rawPath ?? '')}`);
      }
    }
  }
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found.sort();
}

/** Statuses the real apps answered, per operation: `get /api/me` → {200, 401, …}. */
const observed = new Map<string, Set<number>>();

/**
 * Calls `url` on `baseUrl` for the operation `method template`, asserts the expected status and
 * that the answer is one the document describes, and records the status as seen.
 */
async function probe(
  baseUrl: string,
  method: Method,
  template: string,
  url: string,
  expected: number,
  options: ApiRequestOptions = {},
): Promise<ApiResponse> {
  const response = await apiRequest(baseUrl, method.toUpperCase() as HttpMethod, url, { timeoutMs: 5000, ...options });
  assert.equal(response.status, expected, `${method.toUpperCase()} ${url}: ${response.text.slice(0, 300)}`);
  assertDocumented(method, template, response);
  const key = `${method} ${template}`;
  observed.set(key, (observed.get(key) ?? new Set()).add(response.status));
  return response;
}

describe('the real app answers as documented', () => {
  let app: ApiInProcess;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let conversation: ConversationBody;

  before(async () => {
    app = await startApiInProcess();
    alice = await registerUser(app.url);
    bob = await registerUser(app.url);
    conversation = await createConversation(app.url, alice.token, [], 'documented');
    await postMessage(app.url, alice.token, conversation.id, 'first');
    await postMessage(app.url, alice.token, conversation.id, 'second');
  });

  after(async () => {
    await app?.stop();
  });

  test('the routes express registered are exactly the documented operations', () => {
    const documented = operations().map(({ method, path }) => `${method} ${path}`).sort();
    assert.deepEqual(registeredRoutes(app.expressApp), documented);
  });

  test('exactly the operations documented with a bearer token refuse a request without one', async () => {
    for (const { method, path, operation } of operations()) {
      const url = path.replace('{id}', conversation.id).replace('{file}', 'docs-init.js').replace('{seq}', '1');
      // A valid body, so that only the missing token can be wrong.
      const body = operation.requestBody ? { body: { text: 'x' } } : {};
      if (needsToken(operation)) {
        await call(method, path, 401, { url, ...body });
      } else {
        const response = await apiRequest(app.url, method.toUpperCase() as HttpMethod, url, { timeoutMs: 5000, ...body });
        assert.notEqual(response.status, 401, `${method.toUpperCase()} ${path} is public`);
        assertDocumented(method, path, response);
      }
    }
  });

  /** `probe` on this app; the URL is the template with this suite's conversation unless given. */
  function call(method: Method, template: string, expected: number, options: ApiRequestOptions & { url?: string } = {}): Promise<ApiResponse> {
    const { url, ...rest } = options;
    return probe(app.url, method, template, url ?? template.replace('{id}', conversation.id), expected, rest);
  }

  const tooLarge = JSON.stringify({ text: 'x'.repeat(70 * 1024) });
  const asText = { rawBody: '{"text":"hi"}', headers: { 'content-type': 'text/plain' } };
  const notJson = { rawBody: '{"username":', headers: { 'content-type': 'application/json' } };
  const large = { rawBody: tooLarge, headers: { 'content-type': 'application/json' } };

  test('POST /api/auth/register', async () => {
    await call('post', '/api/auth/register', 201, { body: { username: randomUsername(), password: 'long enough password' } });
    await call('post', '/api/auth/register', 400, notJson);
    await call('post', '/api/auth/register', 400, { body: { username: 'Not Lower', password: 'long enough password' } });
    await call('post', '/api/auth/register', 400, { body: { username: randomUsername(), password: 'long enough', extra: 1 } });
    await call('post', '/api/auth/register', 409, { body: { username: alice.username, password: 'long enough password' } });
    await call('post', '/api/auth/register', 413, large);
    await call('post', '/api/auth/register', 415, asText);
  });

  test('POST /api/auth/login', async () => {
    await call('post', '/api/auth/login', 200, { body: { username: alice.username, password: alice.password } });
    await call('post', '/api/auth/login', 400, { body: { username: alice.username } });
    await call('post', '/api/auth/login', 400, notJson);
    await call('post', '/api/auth/login', 401, { body: { username: alice.username, password: 'wrong password!' } });
    await call('post', '/api/auth/login', 401, { body: { username: randomUsername(), password: 'no such user here' } });
    await call('post', '/api/auth/login', 413, large);
    await call('post', '/api/auth/login', 415, asText);
  });

  test('GET /api/me', async () => {
    await call('get', '/api/me', 200, { token: alice.token });
    await call('get', '/api/me', 401, {});
    await call('get', '/api/me', 401, { token: 'not.a.jwt' });
    const gone = await registerUser(app.url);
    await app.redis.del(app.keys.user(gone.username));
    await call('get', '/api/me', 404, { token: gone.token });
  });

  test('GET /api/presence', async () => {
    const presenceOf = (users: string) => `/api/presence?users=${users}`;
    const answer = await call('get', '/api/presence', 200, { token: alice.token, url: presenceOf(alice.username) });
    assert.deepEqual(
      (answer.body as { items: { user: string }[] }).items.map((item) => item.user),
      [alice.username],
    );
    await call('get', '/api/presence', 400, { token: alice.token, url: presenceOf('') });
    await call('get', '/api/presence', 401, { url: presenceOf(bob.username) });
  });

  test('GET /api/conversations', async () => {
    const response = await call('get', '/api/conversations', 200, { token: alice.token });
    assert.ok((response.body as { items: unknown[] }).items.length >= 1);
    await call('get', '/api/conversations', 200, { token: alice.token, url: '/api/conversations?order=activity' });
    await call('get', '/api/conversations', 400, { token: alice.token, url: '/api/conversations?order=newest' });
    await call('get', '/api/conversations', 401, {});
  });

  test('POST /api/conversations', async () => {
    await call('post', '/api/conversations', 201, { token: alice.token, body: { title: 'new', users: [bob.username] } });
    await call('post', '/api/conversations', 400, { token: alice.token, body: { title: 'x', users: [randomUsername()] } });
    await call('post', '/api/conversations', 400, { token: alice.token, body: { title: 'x' } });
    await call('post', '/api/conversations', 400, { token: alice.token, ...notJson });
    await call('post', '/api/conversations', 401, { body: { title: 'x', users: [] } });
    await call('post', '/api/conversations', 413, { token: alice.token, ...large });
    await call('post', '/api/conversations', 415, { token: alice.token, ...asText });
  });

  test('GET /api/conversations/{id}', async () => {
    await call('get', '/api/conversations/{id}', 200, { token: alice.token });
    await call('get', '/api/conversations/{id}', 400, { token: alice.token, url: `/api/conversations/${'x'.repeat(65)}` });
    await call('get', '/api/conversations/{id}', 401, {});
    await call('get', '/api/conversations/{id}', 404, { token: bob.token });
    await call('get', '/api/conversations/{id}', 404, { token: alice.token, url: '/api/conversations/nosuchconversation' });
  });

  test('PATCH /api/conversations/{id}', async () => {
    await call('patch', '/api/conversations/{id}', 200, { token: alice.token, body: { title: 'documented, renamed' } });
    await call('patch', '/api/conversations/{id}', 400, { token: alice.token, body: {} });
    await call('patch', '/api/conversations/{id}', 400, { token: alice.token, body: { users: [randomUsername()] } });
    await call('patch', '/api/conversations/{id}', 401, { body: { title: 'x' } });
    await call('patch', '/api/conversations/{id}', 404, { token: bob.token, body: { title: 'x' } });
    await call('patch', '/api/conversations/{id}', 413, { token: alice.token, ...large });
    await call('patch', '/api/conversations/{id}', 415, { token: alice.token, ...asText });
  });

  test('POST /api/conversations/{id}/leave', async () => {
    const template = '/api/conversations/{id}/leave';
    const urlOf = (id: string) => `/api/conversations/${id}/leave`;
    const shared = await createConversation(app.url, alice.token, [bob.username], 'to leave');
    await call('post', template, 400, { token: bob.token, url: urlOf(shared.id), body: { reason: 'x' } });
    await call('post', template, 400, { token: bob.token, url: urlOf(shared.id), ...notJson });
    await call('post', template, 400, { token: bob.token, url: urlOf('x'.repeat(65)) });
    await call('post', template, 401, { url: urlOf(shared.id) });
    await call('post', template, 404, { token: bob.token, url: urlOf(conversation.id) });
    await call('post', template, 413, { token: bob.token, url: urlOf(shared.id), ...large });
    await call('post', template, 415, { token: bob.token, url: urlOf(shared.id), ...asText });
    await call('post', template, 204, { token: bob.token, url: urlOf(shared.id) });
    await call('post', template, 204, { token: alice.token, url: urlOf(shared.id), body: {} });
    await call('post', template, 404, { token: alice.token, url: urlOf(shared.id) });
  });

  test('GET /api/conversations/{id}/messages', async () => {
    const template = '/api/conversations/{id}/messages';
    const path = `/api/conversations/${conversation.id}/messages`;
    const all = await call('get', template, 200, { token: alice.token });
    assert.equal((all.body as { nextAfter: unknown }).nextAfter, null);
    const page = await call('get', template, 200, { token: alice.token, url: `${path}?after=0&limit=1` });
    assert.equal((page.body as { nextAfter: unknown }).nextAfter, 1);
    const newest = await call('get', template, 200, { token: alice.token, url: `${path}?before=1000&limit=1` });
    assert.deepEqual(Object.keys(newest.body as object), ['items', 'nextBefore']);
    assert.equal((newest.body as { nextBefore: unknown }).nextBefore, 2);
    const oldest = await call('get', template, 200, { token: alice.token, url: `${path}?before=2` });
    assert.equal((oldest.body as { nextBefore: unknown }).nextBefore, null);
    await call('get', template, 400, { token: alice.token, url: `${path}?before=2&after=0` });
    await call('get', template, 400, { token: alice.token, url: `${path}?before=0` });
    await call('get', template, 400, { token: alice.token, url: `${path}?limit=0` });
    await call('get', template, 400, { token: alice.token, url: `${path}?sort=desc` });
    await call('get', template, 401, {});
    await call('get', template, 404, { token: bob.token });
  });

  test('POST /api/conversations/{id}/messages', async () => {
    const template = '/api/conversations/{id}/messages';
    await call('post', template, 201, { token: alice.token, body: { text: 'documented' } });
    await call('post', template, 201, { token: alice.token, body: { text: 'once', clientId: 'documented-1' } });
    await call('post', template, 200, { token: alice.token, body: { text: 'once', clientId: 'documented-1' } });
    await call('post', template, 409, { token: alice.token, body: { text: 'other', clientId: 'documented-1' } });
    await call('post', template, 400, { token: alice.token, body: { text: 'x', clientId: 'not valid' } });
    await call('post', template, 400, { token: alice.token, body: { text: '' } });
    await call('post', template, 400, { token: alice.token, ...notJson });
    await call('post', template, 401, { body: { text: 'x' } });
    await call('post', template, 404, { token: bob.token, body: { text: 'x' } });
    await call('post', template, 413, { token: alice.token, ...large });
    await call('post', template, 415, { token: alice.token, ...asText });
  });

  test('PUT /api/conversations/{id}/read', async () => {
    const template = '/api/conversations/{id}/read';
    await call('put', template, 200, { token: alice.token, body: { seq: 1 } });
    await call('put', template, 400, { token: alice.token, body: { seq: 1_000_000 } });
    await call('put', template, 400, { token: alice.token, body: { seq: -1 } });
    await call('put', template, 400, { token: alice.token, ...notJson });
    await call('put', template, 401, { body: { seq: 1 } });
    await call('put', template, 404, { token: bob.token, body: { seq: 1 } });
    await call('put', template, 413, { token: alice.token, ...large });
    await call('put', template, 415, { token: alice.token, ...asText });
  });

  test('PATCH and DELETE /api/conversations/{id}/messages/{seq}', async () => {
    const template = '/api/conversations/{id}/messages/{seq}';
    const shared = await createConversation(app.url, alice.token, [bob.username], 'to edit');
    const urlOf = (seq: number | string, id = shared.id) => `/api/conversations/${id}/messages/${seq}`;
    await postMessage(app.url, alice.token, shared.id, 'typo');
    await postMessage(app.url, alice.token, shared.id, 'to delete');
    await call('patch', template, 200, { token: alice.token, url: urlOf(1), body: { text: 'fixed' } });
    await call('patch', template, 400, { token: alice.token, url: urlOf(1), body: { text: '' } });
    await call('patch', template, 400, { token: alice.token, url: urlOf(0), body: { text: 'x' } });
    await call('patch', template, 400, { token: alice.token, url: urlOf(1), ...notJson });
    await call('patch', template, 401, { url: urlOf(1), body: { text: 'x' } });
    await call('patch', template, 403, { token: bob.token, url: urlOf(1), body: { text: 'x' } });
    await call('patch', template, 404, { token: alice.token, url: urlOf(3), body: { text: 'x' } });
    await call('patch', template, 404, { token: bob.token, url: urlOf(1, conversation.id), body: { text: 'x' } });
    await call('patch', template, 413, { token: alice.token, url: urlOf(1), ...large });
    await call('patch', template, 415, { token: alice.token, url: urlOf(1), ...asText });
    await call('delete', template, 400, { token: alice.token, url: urlOf('x') });
    await call('delete', template, 401, { url: urlOf(2) });
    await call('delete', template, 403, { token: bob.token, url: urlOf(2) });
    await call('delete', template, 404, { token: alice.token, url: urlOf(3) });
    await call('delete', template, 200, { token: alice.token, url: urlOf(2) });
    await call('delete', template, 200, { token: alice.token, url: urlOf(2) });
    await call('patch', template, 409, { token: alice.token, url: urlOf(2), body: { text: 'back' } });
  });

  test('GET /healthz, /readyz, /metrics', async () => {
    await call('get', '/healthz', 200);
    await call('get', '/readyz', 200);
    const metrics = await call('get', '/metrics', 200);
    assert.match(metrics.text, /^# HELP /m);
  });

  test('GET /api/openapi.json is public and is the built document', async () => {
    const response = await call('get', '/api/openapi.json', 200, { token: 'ignored: no token needed' });
    assert.deepEqual(response.body, JSON.parse(JSON.stringify(document)));
    await call('get', '/api/openapi.json', 200);
  });

  test('GET /api/asyncapi.json is public (test/api/asyncapi.test.ts checks the document)', async () => {
    await call('get', '/api/asyncapi.json', 200);
  });

  test('GET /api/docs is public, and every file it loads is served by the api', async () => {
    const loaded = assertDocsPage(await call('get', '/api/docs', 200));
    for (const url of loaded) {
      const asset = await call('get', '/api/docs/assets/{file}', 200, { url });
      const type = url.endsWith('.css') ? /^text\/css/ : /^text\/javascript/;
      assert.match(asset.headers.get('content-type') ?? '', type, url);
      assert.ok(asset.text.length > 0, `${url} is not empty`);
    }
    await call('get', '/api/docs/assets/{file}', 400, { url: '/api/docs/assets/index.html' });
    await call('get', '/api/docs/assets/{file}', 400, { url: '/api/docs/assets/..%2Fpackage.json' });
  });

  test('with Redis down, every route that needs it answers the documented 503', async () => {
    await app.redisServer.kill();
    try {
      await probeWhileRedisIsDown();
    } finally {
      // Back up before app.stop(): closing the delivery queue waits for its connection.
      await app.redisServer.restart();
      await waitUntilReady(app.url);
    }
  });

  async function probeWhileRedisIsDown(): Promise<void> {
    const body = { title: 'x', users: [] };
    await call('post', '/api/auth/register', 503, { body: { username: randomUsername(), password: 'long enough password' } });
    await call('post', '/api/auth/login', 503, { body: { username: alice.username, password: alice.password } });
    await call('get', '/api/me', 503, { token: alice.token });
    await call('get', '/api/conversations', 503, { token: alice.token });
    await call('post', '/api/conversations', 503, { token: alice.token, body });
    await call('get', '/api/conversations/{id}', 503, { token: alice.token });
    await call('patch', '/api/conversations/{id}', 503, { token: alice.token, body: { title: 'x' } });
    await call('post', '/api/conversations/{id}/leave', 503, { token: alice.token, url: `/api/conversations/${conversation.id}/leave` });
    await call('get', '/api/conversations/{id}/messages', 503, { token: alice.token });
    await call('get', '/api/conversations/{id}/messages', 503, { token: alice.token, url: `/api/conversations/${conversation.id}/messages?before=10` });
    await call('post', '/api/conversations/{id}/messages', 503, { token: alice.token, body: { text: 'x' } });
    await call('put', '/api/conversations/{id}/read', 503, { token: alice.token, body: { seq: 0 } });
    const messageUrl = `/api/conversations/${conversation.id}/messages/1`;
    await call('patch', '/api/conversations/{id}/messages/{seq}', 503, { token: alice.token, url: messageUrl, body: { text: 'x' } });
    await call('delete', '/api/conversations/{id}/messages/{seq}', 503, { token: alice.token, url: messageUrl });
    await call('get', '/api/presence', 503, { token: alice.token, url: `/api/presence?users=${bob.username}` });
    await call('get', '/readyz', 503);
    await call('get', '/healthz', 200);
    await call('get', '/metrics', 200);
  }

});

describe('an api with tokens from an external identity provider and tight rate limits', () => {
  let app: ApiInProcess;
  const provider = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tokenFor = (username: string) =>
    jwt.sign({ sub: username, exp: Math.floor(Date.now() / 1000) + 600 }, provider.privateKey, { algorithm: 'ES256' });

  before(async () => {
    app = await startApiInProcess({
      env: {
        JWT_ALGORITHM: 'ES256',
        JWT_PUBLIC_KEY: provider.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
        RATE_LIMIT_PER_USER: '2',
        RATE_LIMIT_AUTH_PER_IP: '4',
      },
    });
  });

  after(async () => {
    await app?.stop();
  });

  test('register and login are 404 (sign in at the provider), then 429 for an address that asked too often', async () => {
    const paths = ['/api/auth/register', '/api/auth/login'];
    // Four requests from this address: the limit's worth, over both paths.
    for (const path of [...paths, ...paths]) await probe(app.url, 'post', path, path, 404, { body: { username: randomUsername(), password: 'long enough password' } });
    for (const path of paths) await probe(app.url, 'post', path, path, 429, { body: { username: randomUsername(), password: 'long enough password' } });
  });

  test('every authenticated route is 429 with Retry-After once the user has used up the window', async () => {
    const bodies: Record<string, unknown> = {
      'post /api/conversations': { title: 'x', users: [] },
      'patch /api/conversations/{id}': { title: 'x' },
      'post /api/conversations/{id}/messages': { text: 'x' },
      'put /api/conversations/{id}/read': { seq: 0 },
      'patch /api/conversations/{id}/messages/{seq}': { text: 'x' },
    };
    const withToken = operations().filter(({ operation }) => needsToken(operation));
    assert.ok(withToken.length > 0);
    for (const route of withToken) {
      const token = tokenFor(randomUsername());
      // A provider's user has no account here: /api/me is 404 until the window is used up.
      await probe(app.url, 'get', '/api/me', '/api/me', 404, { token });
      await probe(app.url, 'get', '/api/me', '/api/me', 404, { token });
      const key = `${route.method} ${route.path}`;
      const body = bodies[key];
      await probe(app.url, route.method, route.path, route.path.replace('{id}', 'some-conversation').replace('{seq}', '1'), 429, {
        token,
        ...(body !== undefined ? { body } : {}),
      });
    }
  });
});

describe('the document promises nothing the app never does', () => {
  test('every status documented for a route was answered by one of the apps above', () => {
    for (const route of operations()) {
      const key = `${route.method} ${route.path}`;
      const documented = Object.keys(responsesOf(route.operation)).map(Number);
      const seen = observed.get(key) ?? new Set<number>();
      const unseen = documented.filter((status) => !seen.has(status));
      assert.deepEqual(unseen, [], `${key}: documented but never seen: ${unseen.join(', ')}`);
    }
  });
});
