import type { z } from 'zod';

/**
 * The part of OpenAPI 3.1 this api's document uses. Schemas are JSON Schema 2020-12, which is
 * what OpenAPI 3.1 speaks and what `z.toJSONSchema` writes by default.
 */

export type JsonSchema = z.core.JSONSchema.JSONSchema;

export type HttpMethod = 'get' | 'post' | 'patch';

export interface ExampleObject {
  summary: string;
  value: unknown;
}

export interface MediaTypeObject {
  schema: JsonSchema;
  examples?: Record<string, ExampleObject>;
}

export interface HeaderObject {
  description: string;
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, MediaTypeObject>;
}

export interface ParameterObject {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description: string;
  schema: JsonSchema;
}

export interface RequestBodyObject {
  required: true;
  description?: string;
  content: Record<string, MediaTypeObject>;
}

/** `[]` means public; `[{ bearerAuth: [] }]` means a Bearer JWT is required. */
export type SecurityRequirement = Record<string, string[]>;

export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: SecurityRequirement[];
  parameters?: ParameterObject[];
  requestBody?: RequestBodyObject;
  responses: Record<string, ResponseObject>;
}

export type PathItemObject = Partial<Record<HttpMethod, OperationObject>>;

export interface SecuritySchemeObject {
  type: 'http';
  scheme: 'bearer';
  bearerFormat: string;
  description: string;
}

export interface TagObject {
  name: string;
  description: string;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  tags: TagObject[];
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, SecuritySchemeObject>;
  };
}
