import { z } from 'zod';
import type {
  ContentObject,
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  PathsObject,
  ResponseObject,
  ResponsesObject,
  SchemaObject,
} from 'openapi3-ts/oas31';
import { ROUTE_TABLE } from '../routes/route-table.js';
import type { ApiRoute, ErrorStatus, RouteDoc } from '../routes/route-definition.js';
import { REFINEMENTS, requestComponents, responseComponents, type ComponentMeta } from './components.js';
import { EXAMPLE_MESSAGES, errorCodes, errorStatuses } from './route-errors.js';

const BEARER_SCHEME = 'bearerAuth';
const SCHEMA_REF_PREFIX = '#/components/schemas/';

type JsonSchema = z.core.JSONSchema.JSONSchema;

/**
 * A JSON Schema from `z.toJSONSchema` as the OpenAPI 3.1 schema it is (both are draft 2020-12),
 * without what it puts at a root that has no place inside a document: the dialect (`$schema`) and
 * the registry's `$id`.
 */
function embeddable(schema: JsonSchema): SchemaObject {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest as SchemaObject;
}

/** `format: date-time` says it all; zod's long validating regex beside it only hurts readability. */
function simplifyDateTimes(ctx: { jsonSchema: JsonSchema }): void {
  if (ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
}

/** Converts named zod schemas into components whose references to each other are `$ref`s. */
function componentSchemas(registry: z.core.$ZodRegistry<ComponentMeta>, io: 'input' | 'output'): Record<string, SchemaObject> {
  const converted = z.toJSONSchema(registry, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'throw',
    override: simplifyDateTimes,
    uri: (id) => `${SCHEMA_REF_PREFIX}${id}`,
  });
  return Object.fromEntries(
    Object.entries(converted.schemas).map(([name, schema]) => [name, { ...embeddable(schema), ...REFINEMENTS[name] }]),
  );
}

function standalone(schema: z.ZodType): SchemaObject {
  return embeddable(z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'throw' }));
}

function componentRef(registry: z.core.$ZodRegistry<ComponentMeta>, schema: z.ZodType, what: string): SchemaObject {
  const name = registry.get(schema)?.id;
  if (!name) throw new Error(`${what}: the schema has no name in openapi/components.ts`);
  return { $ref: `${SCHEMA_REF_PREFIX}${name}` };
}

function errorResponse(route: RouteDoc, status: ErrorStatus, description: string): ResponseObject {
  const examples = Object.fromEntries(
    errorCodes(route, status).map((code) => [code, { summary: code, value: { error: { code, message: EXAMPLE_MESSAGES[code] } } }]),
  );
  return {
    description,
    ...(status === 429
      ? { headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } } } }
      : {}),
    content: { 'application/json': { schema: { $ref: `${SCHEMA_REF_PREFIX}Error` }, examples } },
  };
}

function successContent(route: RouteDoc): ContentObject | undefined {
  const { body } = route.success;
  const what = `${route.operationId} answer`;
  if (body instanceof z.ZodType) return { 'application/json': { schema: componentRef(responseComponents, body, what) } };
  if (Array.isArray(body)) {
    return { 'application/json': { schema: { oneOf: body.map((schema: z.ZodType) => componentRef(responseComponents, schema, what)) } } };
  }
  return body as ContentObject | undefined;
}

function parameters(route: RouteDoc): ParameterObject[] {
  const inPath = Object.entries(route.params ?? {}).map(([name, param]): ParameterObject => ({
    name,
    in: 'path',
    required: true,
    description: param.description,
    schema: standalone(param.schema),
  }));
  const query = route.query ? standalone(route.query.schema) : {};
  const required = new Set(query.required ?? []);
  const inQuery = Object.entries(query.properties ?? {}).map(([name, schema]): ParameterObject => {
    const description = route.query?.descriptions[name];
    if (!description) throw new Error(`${route.operationId}: query parameter ${name} has no description`);
    return { name, in: 'query', required: required.has(name), description, schema };
  });
  return [...inPath, ...inQuery];
}

function toOperation(route: ApiRoute): OperationObject {
  const content = successContent(route);
  const responses: ResponsesObject = {
    [String(route.success.status)]: { description: route.success.description, ...(content ? { content } : {}) },
  };
  const { also } = route.success;
  if (also) responses[String(also.status)] = { description: also.description, ...(content ? { content } : {}) };
  for (const [status, reason] of errorStatuses(route)) responses[String(status)] = errorResponse(route, status, reason);
  const params = parameters(route);
  // Built in reading order (summary, parameters, body, responses): the JSON is read by people too.
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: route.access === 'user' || route.access === 'user-counted-in-script' ? [{ [BEARER_SCHEME]: [] }] : [],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.bodyRequired !== false,
            content: { 'application/json': { schema: componentRef(requestComponents, route.body, `${route.operationId} body`) } },
          },
        }
      : {}),
    responses,
  };
}

/**
 * The REST api as an OpenAPI 3.1 document, generated from the route table and the zod schemas its
 * routes validate with. Pure: same code, same document.
 */
export function buildOpenApiDocument(routes: readonly ApiRoute[] = ROUTE_TABLE): OpenAPIObject {
  const paths: PathsObject = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    item[route.method] = toOperation(route);
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Chat delivery API',
      version: '1',
      description: [
        'The REST api of the chat delivery system (wire contract version 1, with the additions of 1.1).',
        'Everything is JSON; times are ISO-8601 UTC strings.',
        'Every non-2xx answer has the body `{"error": {"code", "message"}}` (schema `Error`); an unknown route is 404 `not_found`.',
        'Every route except register, login, the health routes and these docs needs `Authorization: Bearer <JWT>`.',
        "Live delivery is over the gateway's WebSocket (`GET /ws`), described by the AsyncAPI document at `/api/asyncapi.json`.",
      ].join('\n\n'),
    },
    tags: [
      { name: 'auth', description: 'Register and log in; both answer with a token.' },
      { name: 'users', description: 'The caller.' },
      { name: 'conversations', description: 'Conversations the caller is a member of.' },
      { name: 'messages', description: 'History and sending.' },
      { name: 'operations', description: 'Health, readiness and metrics; no token needed.' },
      { name: 'documentation', description: 'This document.' },
    ],
    paths,
    components: {
      schemas: { ...componentSchemas(requestComponents, 'input'), ...componentSchemas(responseComponents, 'output') },
      securitySchemes: {
        [BEARER_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The `token` from register or login. `sub` is the username; `exp` is required.',
        },
      },
    },
  };
}
