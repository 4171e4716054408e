// The contract's wire types as plain TypeScript declarations with no zod, generated from the zod
// schemas in @chat/contracts (zod's JSON Schema, then json-schema-to-typescript). The SDK's sources
// import these types from @chat/contracts, whose declarations are written in terms of zod; the
// published bundle (scripts/build.mjs) inlines these instead, so its users need neither zod nor
// @chat/contracts. Field comments come from the schemas' `.describe()`.
import * as contracts from '@chat/contracts';
import { compile } from 'json-schema-to-typescript';
import { z } from 'zod';

/**
 * The wire types the SDK publishes, by the name @chat/contracts exports each type under (build.mjs
 * checks that each generated type equals that one). Requests are what a client sends (zod's input
 * type), answers and server frames what it receives (the output type).
 */
export const WIRE_TYPE_SCHEMAS = {
  output: {
    User: contracts.userSchema,
    Conversation: contracts.conversationSchema,
    Message: contracts.messageSchema,
    Summary: contracts.summarySchema,
    AuthResult: contracts.authResultSchema,
    MessagePage: contracts.messagePageSchema,
    MessagePageBefore: contracts.messagePageBeforeSchema,
    ErrorCode: contracts.errorCodeSchema,
    ServerFrame: contracts.serverFrameSchema,
    ReadyFrame: contracts.readyFrameSchema,
    MessageFrame: contracts.messageFrameSchema,
    MessageUpdatedFrame: contracts.messageUpdatedFrameSchema,
    ResumedFrame: contracts.resumedFrameSchema,
    ErrorFrame: contracts.errorFrameSchema,
    PongFrame: contracts.pongFrameSchema,
    ReadState: contracts.readStateSchema,
    ReadFrame: contracts.readFrameSchema,
    ConversationFrame: contracts.conversationFrameSchema,
    TypingFrame: contracts.typingFrameSchema,
    PresenceFrame: contracts.presenceFrameSchema,
    PresenceItem: contracts.presenceItemSchema,
    PresenceList: contracts.presenceListSchema,
  },
  input: {
    CreateConversationInput: contracts.createConversationSchema,
    UpdateConversationInput: contracts.updateConversationSchema,
    ClientFrame: contracts.clientFrameSchema,
    ResumeFrame: contracts.resumeFrameSchema,
    AuthFrame: contracts.authFrameSchema,
    PingFrame: contracts.pingFrameSchema,
    TypingClientFrame: contracts.typingClientFrameSchema,
  },
};

export const WIRE_TYPE_NAMES = Object.values(WIRE_TYPE_SCHEMAS).flatMap((schemas) => Object.keys(schemas));

const DEFS_PREFIX = '#/$defs/';

/** JSON Schema definitions whose references to each other are `$ref`s, so each becomes a named type. */
function definitions(schemas, io) {
  const registry = z.registry();
  for (const [name, schema] of Object.entries(schemas)) registry.add(schema, { id: name, title: name });
  const { schemas: converted } = z.toJSONSchema(registry, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'throw',
    uri: (id) => `${DEFS_PREFIX}${id}`,
  });
  return Object.fromEntries(
    Object.entries(converted).map(([name, { $schema, $id, ...schema }]) => [name, schema]),
  );
}

/** The declarations, as the text of a module that exports one type per name in WIRE_TYPE_SCHEMAS. */
export async function wireTypeDeclarations() {
  const $defs = { ...definitions(WIRE_TYPE_SCHEMAS.output, 'output'), ...definitions(WIRE_TYPE_SCHEMAS.input, 'input') };
  // A root that references every definition, so each is emitted as an exported type of its own.
  const root = { title: 'WireType', anyOf: WIRE_TYPE_NAMES.map((name) => ({ $ref: `${DEFS_PREFIX}${name}` })), $defs };
  return compile(root, 'WireType', {
    bannerComment: '// Generated from the zod schemas of @chat/contracts by packages/client/scripts/wire-type-declarations.mjs.',
    additionalProperties: false,
    strictIndexSignatures: false,
    format: true,
  });
}
