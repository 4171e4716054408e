import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTypingEvent, decodeUserFrame, encodeUserFrame } from '@chat/contracts';
import { PresenceBook } from '../../packages/client/src/presence-book.js';
import { parseServerFrame } from '../../packages/client/src/frame-parser.js';
import { TypingThrottle } from '../../packages/client/src/typing-throttle.js';

/** The SDK's presence ordering and typing throttle, driven directly; and the pub/sub shapes they come from. */
describe('presence and typing pieces', () => {
  const at = (ms: number) => new Date(ms).toISOString();

  it('PresenceBook applies news and drops frames older than the one applied', () => {
    const book = new PresenceBook();
    assert.equal(book.accept({ type: 'presence', user: 'bob', online: true, lastSeen: at(1000) }), true);
    assert.equal(book.accept({ type: 'presence', user: 'bob', online: true, lastSeen: at(1000) }), false, 'a repeat');
    assert.equal(book.accept({ type: 'presence', user: 'bob', online: false, lastSeen: at(5000) }), true);
    // An online from another replica that crossed the offline on the way: older, dropped.
    assert.equal(book.accept({ type: 'presence', user: 'bob', online: true, lastSeen: at(2000) }), false);
    assert.equal(book.accept({ type: 'presence', user: 'bob', online: true, lastSeen: at(6000) }), true);
    assert.equal(book.accept({ type: 'presence', user: 'amy', online: false, lastSeen: at(10) }), true, 'per user');
  });

  it('TypingThrottle lets one frame per conversation through per interval', () => {
    let now = 0;
    const throttle = new TypingThrottle(2000, () => now);
    assert.equal(throttle.take('c1'), true);
    assert.equal(throttle.take('c1'), false);
    assert.equal(throttle.take('c2'), true, 'per conversation');
    now = 1999;
    assert.equal(throttle.take('c1'), false);
    now = 2000;
    assert.equal(throttle.take('c1'), true);
  });

  it('parses typing and presence frames and reports malformed ones', () => {
    assert.deepEqual(parseServerFrame('{"type":"typing","conversationId":"c1","user":"bob"}'), { type: 'typing', conversationId: 'c1', user: 'bob' });
    assert.deepEqual(parseServerFrame(`{"type":"presence","user":"bob","online":false,"lastSeen":"${at(0)}"}`), {
      type: 'presence',
      user: 'bob',
      online: false,
      lastSeen: at(0),
    });
    assert.ok(parseServerFrame('{"type":"presence","user":"bob","online":"yes","lastSeen":"x"}') instanceof Error);
    assert.ok(parseServerFrame('{"type":"typing","user":"bob"}') instanceof Error);
  });

  it('decodes the pub/sub forms, and skips what is not theirs', () => {
    const frame = '{"type":"presence","user":"bob","online":true,"lastSeen":"x"}';
    assert.equal(decodeUserFrame(Buffer.from(encodeUserFrame(frame)))?.toString(), frame);
    assert.equal(decodeUserFrame(Buffer.from('+conversation1')), undefined, 'a membership notice');
    assert.deepEqual(decodeTypingEvent(Buffer.from('~amy,bob {"type":"typing"}')), { members: ['amy', 'bob'], frame: Buffer.from('{"type":"typing"}') });
    assert.equal(decodeTypingEvent(Buffer.from('~AMY! {"type":"typing"}')), undefined);
    assert.equal(decodeTypingEvent(Buffer.from('c1 1 2 amy {"type":"message"}')), undefined, 'a delivery event');
  });
});
