import { z } from 'zod';
import type { ErrorCode } from '@chat/contracts';
import {
  CONVERSATION_ID_SCHEMA,
  DOCUMENTED_OPERATIONS,
  REQUEST_SCHEMAS,
  RESPONSE_SCHEMAS,
  type DocumentedOperation,
  type ErrorStatus,
  type SuccessDoc,
} from './documented-operations.js';
import type {
  HeaderObject,
  JsonSchema,
  MediaTypeObject,
  OpenApiDocument,
  OperationObject,
  ParameterObject,
  PathItemObject,
  ResponseObject,
} from './openapi-types.js';

export const BEARER_SCHEME = 'bearerAuth';
const SCHEMA_REF_PREFIX = '#/components/schemas/';

function schemaRef(name: string): JsonSchema {
  return { $ref: `${SCHEMA_REF_PREFIX}${name}` };
}

/**
 * Drops what `z.toJSONSchema` puts at a root that has no place inside an OpenAPI document: the
 * dialect (`$schema`, implied by OpenAPI 3.1) and the registry's `$id`.
 */
function embeddable(schema: JsonSchema): JsonSchema {
  const copy: JsonSchema = { ...schema };
  delete copy.$schema;
  delete copy.$id;
  return copy;
}

/** `format: date-time` says it all; zod's long validating regex beside it only hurts readability. */
function simplifyDateTimes(ctx: { jsonSchema: JsonSchema }): void {
  if (ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
}

/** Converts named zod schemas into components whose references to each other are `$ref`s. */
function componentSchemas(schemas: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [name, schema] of Object.entries(schemas)) registry.add(schema, { id: name });
  const converted = z.toJSONSchema(registry, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'throw',
    override: simplifyDateTimes,
    uri: (id) => `${SCHEMA_REF_PREFIX}${id}`,
  });
  return Object.fromEntries(Object.entries(converted.schemas).map(([name, schema]) => [name, embeddable(schema)]));
}

function standalone(schema: z.ZodType): JsonSchema {
  return embeddable(z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'throw' }));
}

function requestSchemas(): Record<string, JsonSchema> {
  const schemas = componentSchemas(REQUEST_SCHEMAS, 'input');
  // A zod refinement has no JSON Schema form; this states the one `updateConversationSchema` enforces.
  schemas.UpdateConversation = {
    ...schemas.UpdateConversation,
    minProperties: 1,
    description: 'Give `title`, `users` or both.',
  };
  return schemas;
}

const CODES_BY_STATUS: Record<ErrorStatus, readonly ErrorCode[]> = {
  400: ['invalid_request'],
  401: ['unauthenticated'],
  404: ['not_found'],
  409: ['conflict'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  429: ['rate_limited'],
  503: ['unavailable'],
};

const EXAMPLE_MESSAGES: Record<ErrorCode, string> = {
  invalid_json: 'request body is not valid JSON',
  invalid_request: 'invalid body: title: Too small: expected string to have >=1 characters',
  unauthenticated: 'missing bearer token',
  forbidden: 'not allowed',
  not_found: 'not found',
  conflict: 'username is taken',
  payload_too_large: 'request body is too large',
  unsupported_media_type: 'send the body as application/json',
  rate_limited: 'too many requests, retry later',
  unavailable: 'storage is unavailable, try again shortly',
  internal: 'internal error',
};

/** The codes a status can carry on this route: `invalid_json` only where a body is parsed. */
function errorCodes(operation: DocumentedOperation, status: ErrorStatus): readonly ErrorCode[] {
  if (status === 400 && operation.requestBody) return ['invalid_json', 'invalid_request'];
  return CODES_BY_STATUS[status];
}

function errorResponse(operation: DocumentedOperation, status: ErrorStatus, description: string): ResponseObject {
  const examples = Object.fromEntries(
    errorCodes(operation, status).map((code) => [code, { summary: code, value: { error: { code, message: EXAMPLE_MESSAGES[code] } } }]),
  );
  const retryAfter: Record<string, HeaderObject> = {
    'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
  };
  return {
    description,
    ...(status === 429 ? { headers: retryAfter } : {}),
    content: { 'application/json': { schema: schemaRef('Error'), examples } },
  };
}

function successContent(body: SuccessDoc['body']): Record<string, MediaTypeObject> {
  switch (body) {
    case 'prometheus-text':
      return { 'text/plain': { schema: { type: 'string', description: 'Prometheus text exposition format 0.0.4' } } };
    case 'openapi-document':
      return { 'application/json': { schema: { type: 'object', description: 'An OpenAPI 3.1 document' } } };
    case 'html-page':
      return { 'text/html': { schema: { type: 'string' } } };
    default:
      return { 'application/json': { schema: schemaRef(body) } };
  }
}

function parameters(operation: DocumentedOperation): ParameterObject[] {
  const result: ParameterObject[] = [];
  if (operation.conversationIdParam) {
    result.push({
      name: 'id',
      in: 'path',
      required: true,
      description: 'A conversation id, as returned when it was created.',
      schema: standalone(CONVERSATION_ID_SCHEMA),
    });
  }
  if (operation.query) {
    const query = standalone(operation.query.schema);
    const required = new Set(query.required ?? []);
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      result.push({
        name,
        in: 'query',
        required: required.has(name),
        description: operation.query.descriptions[name] ?? '',
        schema: typeof schema === 'boolean' ? {} : schema,
      });
    }
  }
  return result;
}

function toOperationObject(operation: DocumentedOperation): OperationObject {
  const responses: Record<string, ResponseObject> = {
    [String(operation.success.status)]: { description: operation.success.description, content: successContent(operation.success.body) },
  };
  const errorStatuses = (Object.keys(operation.errors).map(Number) as ErrorStatus[]).sort((a, b) => a - b);
  for (const status of errorStatuses) {
    responses[String(status)] = errorResponse(operation, status, operation.errors[status] ?? '');
  }

  const params = parameters(operation);
  // Built in reading order (summary, parameters, body, responses): the JSON is read by people too.
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    tags: [operation.tag],
    security: operation.auth ? [{ [BEARER_SCHEME]: [] }] : [],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(operation.requestBody
      ? { requestBody: { required: true, content: { 'application/json': { schema: schemaRef(operation.requestBody) } } } }
      : {}),
    responses,
  };
}

/**
 * The REST api as an OpenAPI 3.1 document, generated from the zod schemas the routes validate
 * with (`DOCUMENTED_OPERATIONS` says which route uses which). Pure: same input, same document.
 */
export function buildOpenApiDocument(): OpenApiDocument {
  const paths: Record<string, PathItemObject> = {};
  for (const operation of DOCUMENTED_OPERATIONS) {
    const item = (paths[operation.path] ??= {});
    item[operation.method] = toOperationObject(operation);
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Chat delivery API',
      version: '1',
      description: [
        'The REST api of the chat delivery system (wire contract version 1).',
        'Everything is JSON; times are ISO-8601 UTC strings.',
        'Every non-2xx answer has the body `{"error": {"code", "message"}}` (schema `Error`); an unknown route is 404 `not_found`.',
        'Every route except register, login, the health routes and these docs needs `Authorization: Bearer <JWT>`.',
        'Live delivery is over the gateway\'s WebSocket (`GET /ws`), which this document does not cover.',
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
      schemas: { ...requestSchemas(), ...componentSchemas(RESPONSE_SCHEMAS, 'output') },
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
