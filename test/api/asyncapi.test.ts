import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { Ajv } from 'ajv';
import { CLIENT_FRAME_SCHEMAS, SERVER_FRAME_SCHEMAS } from '@chat/contracts';
import { buildAsyncApiDocument } from '../../services/api/src/asyncapi/build-asyncapi-document.js';
import { startApiInProcess, type ApiInProcess } from '../support/api-app.js';
import { ISO_UTC, apiRequest } from '../support/api-client.js';

/**
 * The AsyncAPI document of the WebSocket frames: valid for the maintained AsyncAPI parser, one
 * message per frame of the contract's lists, and its payload schemas accept the frames the
 * gateway sends and refuse what it refuses.
 */

const document = buildAsyncApiDocument() as {
  asyncapi: string;
  components: { schemas: Record<string, object>; messages: Record<string, { name: string; payload: { $ref: string } }> };
  operations: Record<string, { action: string }>;
};

const REF_PREFIX = '#/components/schemas/';
const AJV_BASE = 'https://asyncapi.test/schemas/';

/** Ajv (draft-07: the AsyncAPI schema dialect) holding every component schema, with absolute ids. */
function validatorOf(messageName: string): (value: unknown) => string | undefined {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('date-time', ISO_UTC);
  const rebase = (value: unknown): unknown => JSON.parse(JSON.stringify(value).replaceAll(`"${REF_PREFIX}`, `"${AJV_BASE}`));
  for (const [name, schema] of Object.entries(document.components.schemas)) ajv.addSchema({ ...(rebase(schema) as object), $id: `${AJV_BASE}${name}` });
  const message = Object.values(document.components.messages).find((candidate) => candidate.name === messageName);
  assert.ok(message, `a message named ${messageName}`);
  const validate = ajv.getSchema(rebase(message.payload.$ref) as string);
  assert.ok(validate);
  return (value) => (validate(value) ? undefined : ajv.errorsText(validate.errors));
}

describe('the AsyncAPI document', () => {
  test('is a valid AsyncAPI 3 document for @asyncapi/parser: no error, no warning', async () => {
    assert.match(document.asyncapi, /^3\./);
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.parse(JSON.stringify(document)));
    const problems = diagnostics.filter((diagnostic) => diagnostic.severity <= 1 && diagnostic.code !== 'asyncapi-latest-version');
    assert.deepEqual(problems.map((p) => `${p.code}: ${p.message} at ${p.path.join('.')}`), []);
    assert.ok(parsed, 'parsed');
    const names = parsed.messages().all().map((message) => message.name());
    assert.equal(names.length, CLIENT_FRAME_SCHEMAS.length + SERVER_FRAME_SCHEMAS.length);
  });

  test('has one message per frame of the contract, received or sent as the gateway does', () => {
    const byName = new Map(Object.entries(document.components.messages).map(([id, message]) => [message.name, id]));
    for (const name of ['resume', 'auth', 'ping']) assert.match(byName.get(name) ?? '', /^client/, name);
    for (const name of ['ready', 'message', 'resumed', 'error', 'pong', 'read', 'conversation']) assert.match(byName.get(name) ?? '', /^server/, name);
    const actions = Object.entries(document.operations).map(([id, operation]) => `${id}:${operation.action}`);
    assert.ok(actions.includes('receiveResume:receive') && actions.includes('sendConversation:send'), actions.join(' '));
  });

  test('its payload schemas take the frames the gateway sends and refuse malformed ones', () => {
    const conversation = {
      id: 'c1',
      title: 'Trip',
      users: ['alice', 'bob'],
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'alice',
      lastSeq: 3,
      lastMessageAt: '2026-01-01T00:01:00.000Z',
      readSeq: 1,
      unread: 2,
    };
    const ready = validatorOf('ready');
    assert.equal(ready({ type: 'ready', user: 'alice', epoch: 'e1e1e1e1', protocol: '1.1' }), undefined);
    assert.notEqual(ready({ type: 'ready', user: 'alice' }), undefined);
    const frame = validatorOf('conversation');
    assert.equal(frame({ type: 'conversation', event: 'added', data: conversation }), undefined);
    assert.equal(frame({ type: 'conversation', event: 'removed', data: { id: 'c1' } }), undefined);
    assert.notEqual(frame({ type: 'conversation', event: 'removed', data: conversation }), undefined);
    assert.notEqual(frame({ type: 'conversation', event: 'added', data: { id: 'c1' } }), undefined);
    const read = validatorOf('read');
    assert.equal(read({ type: 'read', conversationId: 'c1', seq: 2 }), undefined);
    assert.notEqual(read({ type: 'read', conversationId: 'c1', seq: -1 }), undefined);
    const message = validatorOf('message');
    const summary = { id: 'm1', conversationId: 'c1', seq: 1, rev: 1, author: 'alice', text: 'hi', createdAt: conversation.createdAt, conversationTitle: 'Trip' };
    assert.equal(message({ type: 'message', data: summary }), undefined);
    assert.equal(message({ type: 'message', data: { ...summary, clientId: 'abc' } }), undefined);
    assert.notEqual(message({ type: 'message', data: { ...summary, rev: undefined } }), undefined);
    const updated = validatorOf('message_updated');
    assert.equal(updated({ type: 'message_updated', data: { ...summary, rev: 2, text: '', deletedAt: conversation.createdAt } }), undefined);
    const resume = validatorOf('resume');
    assert.equal(resume({ type: 'resume', cursors: { c1: 3 } }), undefined);
    assert.notEqual(resume({ type: 'resume', cursors: { c1: -3 } }), undefined);
    assert.equal(resume({ type: 'resume', cursors: { c1: 3 }, revs: { c1: 5 } }), undefined);
  });
});

describe('GET /api/asyncapi.json', () => {
  let app: ApiInProcess;
  before(async () => {
    app = await startApiInProcess();
  });
  after(async () => {
    await app?.stop();
  });

  test('serves the built document without a token', async () => {
    const response = await apiRequest(app.url, 'GET', '/api/asyncapi.json');
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, JSON.parse(JSON.stringify(document)));
  });
});
