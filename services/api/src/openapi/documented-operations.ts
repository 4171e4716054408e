import type { z } from 'zod';
import {
  MESSAGE_TEXT_MAX,
  PAGE_LIMIT_DEFAULT,
  PAGE_LIMIT_MAX,
  PASSWORD_MAX,
  PASSWORD_MIN,
  authResultSchema,
  conversationIdParamSchema,
  conversationListSchema,
  conversationSchema,
  createConversationSchema,
  credentialsSchema,
  errorBodySchema,
  healthSchema,
  listMessagesQuerySchema,
  messagePageSchema,
  messageSchema,
  postMessageSchema,
  updateConversationSchema,
  userSchema,
} from '@chat/contracts';
import type { HttpMethod } from './openapi-types.js';

/**
 * What the OpenAPI document says about each route: the one table to update when a route is added
 * or changed. Bodies and answers are named zod schemas from `@chat/contracts`, the same ones the
 * routes validate with, so the document cannot drift from what the api accepts.
 */

/** Request bodies and query strings, converted with `io: 'input'` (what a client sends). */
export const REQUEST_SCHEMAS = {
  Credentials: credentialsSchema,
  CreateConversation: createConversationSchema,
  UpdateConversation: updateConversationSchema,
  PostMessage: postMessageSchema,
} as const satisfies Record<string, z.ZodType>;

/** Answers, converted with `io: 'output'` (what the api sends). */
export const RESPONSE_SCHEMAS = {
  User: userSchema,
  AuthResult: authResultSchema,
  Conversation: conversationSchema,
  ConversationList: conversationListSchema,
  Message: messageSchema,
  MessagePage: messagePageSchema,
  Health: healthSchema,
  Error: errorBodySchema,
} as const satisfies Record<string, z.ZodType>;

export type RequestSchemaName = keyof typeof REQUEST_SCHEMAS;
export type ResponseSchemaName = keyof typeof RESPONSE_SCHEMAS;

/** The error statuses of the contract; each documented with the `Error` body. */
export type ErrorStatus = 400 | 401 | 404 | 409 | 413 | 415 | 429 | 503;

export interface SuccessDoc {
  status: 200 | 201;
  description: string;
  /** A JSON body of this schema, or one of the bodies that are not JSON data. */
  body: ResponseSchemaName | 'prometheus-text' | 'openapi-document' | 'html-page';
}

export interface DocumentedOperation {
  method: HttpMethod;
  /** OpenAPI path template: `{id}` where express has `:id`. */
  path: string;
  operationId: string;
  tag: 'auth' | 'users' | 'conversations' | 'messages' | 'operations' | 'documentation';
  summary: string;
  description?: string;
  /** True when `Authorization: Bearer <JWT>` is required. */
  auth: boolean;
  /** Path parameter `id`, a conversation id. */
  conversationIdParam?: boolean;
  query?: { schema: z.ZodObject; descriptions: Record<string, string> };
  requestBody?: RequestSchemaName;
  success: SuccessDoc;
  /** Why this route answers each error status (the body is always `Error`). */
  errors: Partial<Record<ErrorStatus, string>>;
}

const JSON_BODY_ERRORS = {
  413: 'The body is larger than the configured limit (BODY_LIMIT_BYTES, 64 KiB by default).',
  415: 'The body is not sent as `application/json`.',
} as const;

const NEEDS_TOKEN = {
  401: 'The bearer token is missing, malformed, expired or wrongly signed.',
} as const;

const UNAVAILABLE = { 503: 'Redis is unreachable. Nothing was half-written; retry later.' } as const;

const SIGN_IN_ROUTE = {
  404: 'This api only accepts tokens from an external identity provider (it has no signing key): sign in there.',
  429:
    'Too many register/login attempts from this client address or for this username in the window ' +
    '(RATE_LIMIT_AUTH_PER_IP, RATE_LIMIT_AUTH_PER_USERNAME); `Retry-After` says when to try again.',
  ...UNAVAILABLE,
} as const;

const EVERY_API_ROUTE = {
  429: 'Too many requests by this user in the window (RATE_LIMIT_PER_USER); `Retry-After` says when to try again.',
  ...UNAVAILABLE,
} as const;

const BAD_BODY = 'The body is not JSON (`invalid_json`), or has wrong types, unknown or missing fields (`invalid_request`).';
const NOT_A_MEMBER = 'No such conversation for this user: non-members get 404, never the data.';

export const DOCUMENTED_OPERATIONS: readonly DocumentedOperation[] = [
  {
    method: 'post',
    path: '/api/auth/register',
    operationId: 'register',
    tag: 'auth',
    summary: 'Create a user and get a token',
    description: `Usernames match \`^[a-z0-9_.-]{2,32}$\`; passwords are ${PASSWORD_MIN}..${PASSWORD_MAX} characters.`,
    auth: false,
    requestBody: 'Credentials',
    success: { status: 201, description: 'The user was created.', body: 'AuthResult' },
    errors: { 400: `${BAD_BODY} A bad username is \`invalid_request\` too.`, 409: 'The username is taken.', ...JSON_BODY_ERRORS, ...SIGN_IN_ROUTE },
  },
  {
    method: 'post',
    path: '/api/auth/login',
    operationId: 'login',
    tag: 'auth',
    summary: 'Get a token for an existing user',
    auth: false,
    requestBody: 'Credentials',
    success: { status: 200, description: 'The password matched.', body: 'AuthResult' },
    errors: {
      400: BAD_BODY,
      401: 'Wrong username or password (one answer for both, so logins do not reveal who exists).',
      ...JSON_BODY_ERRORS,
      ...SIGN_IN_ROUTE,
    },
  },
  {
    method: 'get',
    path: '/api/me',
    operationId: 'getMe',
    tag: 'users',
    summary: 'The user the token belongs to',
    auth: true,
    success: { status: 200, description: 'The caller.', body: 'User' },
    errors: {
      ...NEEDS_TOKEN,
      404: 'The token is valid but its user has no account here (a token from an external identity provider, or a deleted user).',
      ...EVERY_API_ROUTE,
    },
  },
  {
    method: 'get',
    path: '/api/conversations',
    operationId: 'listConversations',
    tag: 'conversations',
    summary: "The caller's conversations",
    auth: true,
    success: { status: 200, description: 'Every conversation the caller is a member of, oldest `createdAt` first.', body: 'ConversationList' },
    errors: { ...NEEDS_TOKEN, ...EVERY_API_ROUTE },
  },
  {
    method: 'post',
    path: '/api/conversations',
    operationId: 'createConversation',
    tag: 'conversations',
    summary: 'Start a conversation',
    description: 'The creator is always a member, whether listed in `users` or not.',
    auth: true,
    requestBody: 'CreateConversation',
    success: { status: 201, description: 'The conversation was created.', body: 'Conversation' },
    errors: { 400: `${BAD_BODY} Also when a listed user does not exist.`, ...NEEDS_TOKEN, ...JSON_BODY_ERRORS, ...EVERY_API_ROUTE },
  },
  {
    method: 'get',
    path: '/api/conversations/{id}',
    operationId: 'getConversation',
    tag: 'conversations',
    summary: 'One conversation (members only)',
    auth: true,
    conversationIdParam: true,
    success: { status: 200, description: 'The conversation.', body: 'Conversation' },
    errors: { 400: 'The id is not a valid conversation id.', ...NEEDS_TOKEN, 404: NOT_A_MEMBER, ...EVERY_API_ROUTE },
  },
  {
    method: 'patch',
    path: '/api/conversations/{id}',
    operationId: 'updateConversation',
    tag: 'conversations',
    summary: 'Rename a conversation or change its members (members only)',
    description: 'Give `title`, `users` or both. `users` replaces the member list; the caller always stays a member.',
    auth: true,
    conversationIdParam: true,
    requestBody: 'UpdateConversation',
    success: { status: 200, description: 'The conversation as it is now.', body: 'Conversation' },
    errors: {
      400: `${BAD_BODY} Also when neither field is given, the id is malformed, or a listed user does not exist.`,
      ...NEEDS_TOKEN,
      404: NOT_A_MEMBER,
      ...JSON_BODY_ERRORS,
      ...EVERY_API_ROUTE,
    },
  },
  {
    method: 'get',
    path: '/api/conversations/{id}/messages',
    operationId: 'listMessages',
    tag: 'messages',
    summary: 'A page of history (members only)',
    description: 'Messages in ascending `seq`. To read everything, start without `after` and pass each page\'s `nextAfter` until it is null.',
    auth: true,
    conversationIdParam: true,
    query: {
      schema: listMessagesQuerySchema,
      descriptions: {
        after: 'Only messages with a `seq` greater than this (default 0: from the start).',
        limit: `At most this many messages, 1..${PAGE_LIMIT_MAX} (default ${PAGE_LIMIT_DEFAULT}).`,
      },
    },
    success: { status: 200, description: 'The page.', body: 'MessagePage' },
    errors: {
      400: 'The id or the query string is not valid (unknown parameter, not a number, limit out of range).',
      ...NEEDS_TOKEN,
      404: NOT_A_MEMBER,
      ...EVERY_API_ROUTE,
    },
  },
  {
    method: 'post',
    path: '/api/conversations/{id}/messages',
    operationId: 'postMessage',
    tag: 'messages',
    summary: 'Send a message (members only)',
    description: `\`text\` is 1..${MESSAGE_TEXT_MAX} characters. A 201 means the message is stored and will reach every member's live sockets.`,
    auth: true,
    conversationIdParam: true,
    requestBody: 'PostMessage',
    success: { status: 201, description: 'The message was stored, with its `seq`.', body: 'Message' },
    errors: { 400: `${BAD_BODY} Also when the id is malformed.`, ...NEEDS_TOKEN, 404: NOT_A_MEMBER, ...JSON_BODY_ERRORS, ...EVERY_API_ROUTE },
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    tag: 'operations',
    summary: 'Liveness',
    auth: false,
    success: { status: 200, description: 'The process runs (Redis may still be down).', body: 'Health' },
    errors: {},
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    tag: 'operations',
    summary: 'Readiness',
    auth: false,
    success: { status: 200, description: 'Redis answers.', body: 'Health' },
    errors: { 503: 'Redis does not answer.' },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    auth: false,
    success: { status: 200, description: 'Metrics in the Prometheus text format.', body: 'prometheus-text' },
    errors: {},
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openApiDocument',
    tag: 'documentation',
    summary: 'This document, as OpenAPI 3.1 JSON',
    auth: false,
    success: { status: 200, description: 'The OpenAPI document.', body: 'openapi-document' },
    errors: {},
  },
  {
    method: 'get',
    path: '/api/docs',
    operationId: 'docsPage',
    tag: 'documentation',
    summary: 'This document, as a readable HTML page',
    description: 'Self-contained: no scripts, no fonts, nothing loaded from the network.',
    auth: false,
    success: { status: 200, description: 'The HTML page.', body: 'html-page' },
    errors: {},
  },
];

/** The id of a conversation, as the routes validate it. */
export const CONVERSATION_ID_SCHEMA: z.ZodType = conversationIdParamSchema;
