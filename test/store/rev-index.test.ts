import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { connectRedis, createConversationStore, createKeys, createMessageStore, waitForRedis, type Redis } from '@chat/store';

/**
 * A conversation's rev and rev index (lua/includes/rev-index.lua): every change takes the next
 * rev, the index finds each message under the rev of its latest change, and it is trimmed with
 * the history.
 */

let server: RedisServerHandle;
let redis: Redis;
const keys = createKeys('revtest');

before(async () => {
  server = await startRedisServer({});
  redis = connectRedis({ url: server.url, name: 'test:command', role: 'command' });
  await waitForRedis(redis, 10_000);
});

after(async () => {
  redis?.disconnect();
  await server?.dispose();
});

const conversations = () => createConversationStore(redis, keys);

async function indexOf(id: string): Promise<[number, number][]> {
  const rows = await redis.zrange(keys.revs(id), 0, -1, 'WITHSCORES');
  const pairs: [number, number][] = [];
  for (let i = 0; i < rows.length; i += 2) pairs.push([Number(rows[i]), Number(rows[i + 1])]);
  return pairs;
}

describe('rev index', () => {
  test('each message is indexed under the rev of its latest change; changesBetween reads a range of revs in rev order', async () => {
    const messages = createMessageStore(redis, keys);
    const { id } = await conversations().create({ title: 'revs', createdBy: 'ann', users: ['bob'] });
    for (const text of ['one', 'two', 'three']) await messages.append(id, 'ann', text);
    await messages.change(id, 1, 'ann', { text: 'one, edited' }); // rev 4
    await messages.change(id, 3, 'ann', 'delete'); // rev 5
    assert.deepEqual(await indexOf(id), [[2, 2], [1, 4], [3, 5]]);

    const all = await messages.changesBetween(id, 0, undefined, undefined, 100);
    assert.deepEqual(all.changes.map((change) => [change.rev, (JSON.parse(change.raw) as { seq: number }).seq]), [[2, 2], [4, 1], [5, 3]]);
    assert.deepEqual([all.rev, all.lastSeq, all.title, all.readUntil, all.more], [5, 3, 'revs', 5, false]);
    // A range: rev 3 (seq 3's creation) was superseded by its deletion at 5: nothing is under it.
    const middle = await messages.changesBetween(id, 2, 4, undefined, 100);
    assert.deepEqual(middle.changes.map((change) => change.rev), [4]);
    assert.equal(middle.readUntil, 4);
    // Only messages at or below a seq (a resume's cursor), and paging by the index entries looked at.
    assert.deepEqual((await messages.changesBetween(id, 0, undefined, 2, 100)).changes.map((change) => change.rev), [2, 4]);
    const first = await messages.changesBetween(id, 0, undefined, undefined, 2);
    assert.deepEqual([first.changes.length, first.more, first.readUntil], [2, true, 4]);
    const rest = await messages.changesBetween(id, first.readUntil, undefined, undefined, 2);
    assert.deepEqual([rest.changes.map((change) => change.rev), rest.more], [[5], false]);
  });

  test('trimmed with the history (HISTORY_LIMIT), edited messages included; deleted with the conversation', async () => {
    const messages = createMessageStore(redis, keys, { historyLimit: 3 });
    const { id } = await conversations().create({ title: 'trim', createdBy: 'ann', users: [] });
    await messages.append(id, 'ann', 'one');
    await messages.append(id, 'ann', 'two');
    await messages.change(id, 1, 'ann', { text: 'one, edited' }); // rev 3
    for (const text of ['three', 'four', 'five']) await messages.append(id, 'ann', text);
    assert.deepEqual((await indexOf(id)).map(([seq]) => seq).sort(), [3, 4, 5]);
    assert.equal(await redis.zcard(keys.messages(id)), 3);

    await conversations().leave(id, 'ann');
    assert.equal(await redis.exists(keys.revs(id)), 0);
  });
});
