import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnavailableError } from '@chat/contracts';
import { guardRedis, isRedisUnavailable } from '@chat/store';

/**
 * redis-failure.ts: what counts as "Redis is away" (a 503 for users) and what is a bug (rethrown,
 * a 500). The messages are the ones ioredis and Redis give.
 */

test('Redis being away, including a cluster mid-migration or failover, is unavailable', async () => {
  const away = [
    'Connection is closed.',
    "Stream isn't writeable and enableOfflineQueue options is false",
    'Command timed out',
    'LOADING Redis is loading the dataset in memory',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'CLUSTERDOWN The cluster is down',
    // Seen in the slot-migration fault test as a 500 before this was listed.
    'Too many Cluster redirections. Last error: ReplyError: MOVED 12155 127.0.0.1:20913',
  ];
  for (const message of away) {
    assert.equal(isRedisUnavailable(new Error(message)), true, message);
    await assert.rejects(guardRedis(Promise.reject(new Error(message))), UnavailableError, message);
  }
});

test('anything else is rethrown as it is', async () => {
  for (const message of ['ERR wrong number of arguments', 'WRONGTYPE Operation against a key holding the wrong kind of value', 'redirections were fine']) {
    const error = new Error(message);
    assert.equal(isRedisUnavailable(error), false, message);
    await assert.rejects(guardRedis(Promise.reject(error)), (thrown) => thrown === error);
  }
});
