import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatConnectionError } from '../../packages/client/src/errors.js';
import { parseServerFrame } from '../../packages/client/src/frame-parser.js';

/** How the SDK reads what the gateway sends, driven directly (no socket). */

function assertError(result: ReturnType<typeof parseServerFrame>, code: string, message?: string): void {
  assert.ok(result instanceof ChatConnectionError, `expected a ChatConnectionError, got ${JSON.stringify(result)}`);
  assert.equal(result.code, code);
  if (message !== undefined) assert.equal(result.message, message);
}

const summary = { id: 'm1', conversationId: 'c1', seq: 1, author: 'alice', text: 'hi', createdAt: '2026-01-01T00:00:00.000Z', conversationTitle: 't' };

describe('SDK frame parser', () => {
  it('reads ready, message and resumed frames', () => {
    assert.deepEqual(parseServerFrame('{"type":"ready","user":"bob","epoch":"e1"}'), { type: 'ready', user: 'bob', epoch: 'e1' });
    assert.deepEqual(parseServerFrame(JSON.stringify({ type: 'message', data: summary })), { type: 'message', data: summary });
    assert.deepEqual(parseServerFrame('{"type":"resumed","recovered":true}'), { type: 'resumed', recovered: true, conversations: [] });
    assert.deepEqual(parseServerFrame('{"type":"resumed","recovered":false,"conversations":["c1",2]}'), {
      type: 'resumed',
      recovered: false,
      conversations: ['c1', '2'],
    });
  });

  it('reads the 1.1 frames: ready with protocol, read, conversation added/updated/removed', () => {
    assert.deepEqual(parseServerFrame('{"type":"ready","user":"bob","epoch":"e1","protocol":"1.1"}'), { type: 'ready', user: 'bob', epoch: 'e1', protocol: '1.1' });
    assert.deepEqual(parseServerFrame('{"type":"read","conversationId":"c1","seq":0}'), { type: 'read', conversationId: 'c1', seq: 0 });
    assertError(parseServerFrame('{"type":"read","conversationId":"c1","seq":-1}'), 'invalid_frame');
    assertError(parseServerFrame('{"type":"read","conversationId":"c1","seq":"2"}'), 'invalid_frame');
    const conversation = { id: 'c1', title: 't', users: ['bob'], createdAt: summary.createdAt, createdBy: 'bob', lastSeq: 0, lastMessageAt: null, readSeq: 0, unread: 0 };
    for (const event of ['added', 'updated'] as const) {
      assert.deepEqual(parseServerFrame(JSON.stringify({ type: 'conversation', event, data: conversation })), { type: 'conversation', event, data: conversation });
      assertError(parseServerFrame(JSON.stringify({ type: 'conversation', event, data: { id: 'c1' } })), 'invalid_frame');
    }
    assert.deepEqual(parseServerFrame('{"type":"conversation","event":"removed","data":{"id":"c1","x":1}}'), { type: 'conversation', event: 'removed', data: { id: 'c1' } });
    assertError(parseServerFrame('{"type":"conversation","event":"removed","data":{}}'), 'invalid_frame');
    assert.equal(parseServerFrame('{"type":"conversation","event":"archived","data":{"id":"c1"}}'), undefined, 'an event of a later version');
  });

  it('turns an error frame into a ChatConnectionError with the gateway code and message', () => {
    assertError(parseServerFrame('{"type":"error","code":"rate_limited","message":"slow down"}'), 'rate_limited', 'slow down');
  });

  it('ignores pong and frame types from later versions of the contract', () => {
    assert.equal(parseServerFrame('{"type":"pong"}'), undefined);
    assert.equal(parseServerFrame('{"type":"from_a_later_version","conversationId":"c1"}'), undefined);
  });

  it('reports what it cannot read as invalid_frame', () => {
    assertError(parseServerFrame(new Uint8Array([1, 2])), 'invalid_frame', 'the gateway sent a binary frame');
    assertError(parseServerFrame('{not json'), 'invalid_frame', 'the gateway sent a frame that is not JSON');
    assertError(parseServerFrame('null'), 'invalid_frame', 'the gateway sent a frame that is not an object');
    assertError(parseServerFrame('"ready"'), 'invalid_frame', 'the gateway sent a frame that is not an object');
    for (const data of [{ ...summary, seq: 0 }, { ...summary, seq: 1.5 }, { ...summary, conversationId: 7 }, null]) {
      assertError(parseServerFrame(JSON.stringify({ type: 'message', data })), 'invalid_frame', 'the gateway sent a malformed message frame');
    }
  });
});
