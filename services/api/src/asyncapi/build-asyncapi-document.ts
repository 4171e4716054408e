import { z } from 'zod';
import { CLIENT_FRAME_SCHEMAS, PROTOCOL_VERSION, SERVER_FRAME_SCHEMAS, conversationSchema, summarySchema } from '@chat/contracts';

type JsonSchema = z.core.JSONSchema.JSONSchema;

const SCHEMA_REF_PREFIX = '#/components/schemas/';
const CHANNEL = 'socket';

/**
 * Schemas several frames share, named once in the document (their `$ref`s point here). A frame
 * schema itself is named after its `type`.
 */
const SHARED_SCHEMAS: [z.ZodType, string][] = [
  [conversationSchema, 'Conversation'],
  [summarySchema, 'Summary'],
];

/** `format: date-time` says it all; zod's long validating regex beside it only hurts readability. */
function simplifyDateTimes(ctx: { jsonSchema: JsonSchema }): void {
  if (ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
}

/** The `type` a frame schema fixes (a union of variants, like `conversation`'s events, shares one). */
function frameType(schema: JsonSchema): string {
  const variants = (schema.oneOf ?? schema.anyOf ?? [schema]) as JsonSchema[];
  const type = (variants[0]?.properties?.type as JsonSchema | undefined)?.const;
  if (typeof type !== 'string') throw new Error('a frame schema has no literal `type`');
  return type;
}

function capitalized(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

/**
 * The gateway's WebSocket frames as an AsyncAPI 3.0 document, generated from the zod schemas the
 * gateway validates client frames with and builds server frames from (@chat/contracts
 * CLIENT_FRAME_SCHEMAS and SERVER_FRAME_SCHEMAS): a frame added to those lists is documented here
 * without another edit. Written from the gateway's side: it receives client frames and sends
 * server frames. Pure: same code, same document.
 */
export function buildAsyncApiDocument(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of SHARED_SCHEMAS) registry.add(schema, { id });
  const frames = [
    ...CLIENT_FRAME_SCHEMAS.map((schema) => ({ schema, direction: 'receive' as const })),
    ...SERVER_FRAME_SCHEMAS.map((schema) => ({ schema, direction: 'send' as const })),
  ];
  const ids = frames.map(({ schema, direction }) => {
    const { $schema: _dialect, ...plain } = z.toJSONSchema(schema, { target: 'draft-7', io: direction === 'receive' ? 'input' : 'output' });
    return `${direction === 'receive' ? 'client' : 'server'}${capitalized(frameType(plain))}Frame`;
  });
  frames.forEach(({ schema }, index) => registry.add(schema, { id: ids[index] as string }));
  // Client frames are read as the client sends them; there is no transform in them, so one io fits both.
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-7',
    io: 'output',
    unrepresentable: 'throw',
    override: simplifyDateTimes,
    uri: (id) => `${SCHEMA_REF_PREFIX}${id}`,
  });
  const componentSchemas = Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => {
      const { $schema: _dialect, $id: _id, ...rest } = schema;
      return [name, rest];
    }),
  );

  const messages: Record<string, unknown> = {};
  const channelMessages: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  frames.forEach(({ direction }, index) => {
    const id = ids[index] as string;
    const schema = componentSchemas[id] as JsonSchema;
    const type = frameType(schema);
    messages[id] = {
      name: type,
      title: `${type} (${direction === 'receive' ? 'client → server' : 'server → client'})`,
      contentType: 'application/json',
      ...(schema.description ? { summary: schema.description } : {}),
      payload: { $ref: `${SCHEMA_REF_PREFIX}${id}` },
    };
    channelMessages[id] = { $ref: `#/components/messages/${id}` };
    operations[`${direction}${capitalized(type)}`] = {
      action: direction,
      channel: { $ref: `#/channels/${CHANNEL}` },
      messages: [{ $ref: `#/channels/${CHANNEL}/messages/${id}` }],
    };
  });

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Chat delivery gateway',
      version: PROTOCOL_VERSION,
      description: [
        "The gateway's WebSocket protocol (wire contract version 1 and the additions of 1.1), from the gateway's side:",
        'it receives the client frames and sends the server frames. Every frame is one JSON text message with a `type`.',
        'A client ignores frame types and fields it does not know. The REST api is described by /api/openapi.json.',
      ].join('\n\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      gateway: {
        host: 'localhost:8080',
        protocol: 'ws',
        pathname: '/ws',
        description: 'A gateway replica (behind the edge in production). Authenticate with `?token=<JWT>` or `Authorization: Bearer <JWT>`.',
      },
    },
    channels: {
      [CHANNEL]: {
        address: '/ws',
        title: 'One socket of one user',
        description:
          'The server sends `ready` first; a client that resumes sends `resume` right after. Messages of one conversation arrive in `seq` order, once each.',
        messages: channelMessages,
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: { token: { type: 'string', description: 'The JWT, when it is not sent as a bearer header' } },
            },
          },
        },
      },
    },
    operations,
    components: { schemas: componentSchemas, messages },
  };
}
