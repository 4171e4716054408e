import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { connectRedis, waitForRedis, type Redis } from '@chat/store';

// ioredis 5 writes SUBSCRIBE during the connection handshake (Redis flags it as allowed while
// loading). When its reply lands before the ready check's INFO is sent, ioredis refuses the INFO
// ("Connection in subscriber mode"), drops the connection and starts over: a subscriber that never
// settles, and pub/sub messages lost in between. These tests hold the subscriber role to
// subscribing during connect and across a Redis restart without a single error or reconnect.

let server: RedisServerHandle;
let publisher: Redis;

before(async () => {
  server = await startRedisServer({ appendOnly: false });
  publisher = connectRedis({ url: server.url, name: 'test:publisher', role: 'command' });
  await waitForRedis(publisher, 10_000);
});

after(async () => {
  publisher?.disconnect();
  await server?.dispose();
});

interface WatchedSubscriber {
  redis: Redis;
  errors: Error[];
  connects: () => number;
  received: string[];
}

function watchedSubscriber(name: string): WatchedSubscriber {
  const redis = connectRedis({ url: server.url, name, role: 'subscriber' });
  const errors: Error[] = [];
  const received: string[] = [];
  let connects = 0;
  redis.on('error', (error: Error) => errors.push(error));
  redis.on('connect', () => (connects += 1));
  redis.on('message', (_channel: string, message: string) => received.push(message));
  return { redis, errors, connects: () => connects, received };
}

/** Publishes `text` on `channel` until a subscriber has it (bounded), since SUBSCRIBE may still be in flight. */
async function publishUntilReceived(subscriber: WatchedSubscriber, channel: string, text: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!subscriber.received.includes(text)) {
    assert.ok(Date.now() < deadline, `no "${text}" on ${channel} within 5 s; errors: ${subscriber.errors.map((e) => e.message).join('; ')}`);
    await publisher.publish(channel, text);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('subscriber connection', () => {
  test('subscribes while connecting without a failed ready check or a reconnect', async () => {
    // The race depends on how replies and the handshake interleave: try it on many fresh connections.
    for (let attempt = 0; attempt < 30; attempt += 1) {
      const subscriber = watchedSubscriber(`test:subscriber-${attempt}`);
      try {
        // 'connect' is the handshake window: the socket is open, the ready check not yet answered.
        await new Promise<void>((resolve) => subscriber.redis.once('connect', resolve));
        assert.equal(subscriber.redis.status, 'connect');
        await subscriber.redis.subscribe('early');
        await waitForRedis(subscriber.redis, 5000);
        await publishUntilReceived(subscriber, 'early', `hello ${attempt}`);
        // Long enough for a failed ready check to have dropped the connection.
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(subscriber.errors.map((e) => e.message), [], `attempt ${attempt}`);
        assert.equal(subscriber.connects(), 1, `attempt ${attempt}: connected once`);
        assert.equal(subscriber.redis.status, 'ready');
      } finally {
        subscriber.redis.disconnect();
      }
    }
  });

  test('resubscribes after Redis restarts and settles on one new connection', async () => {
    const subscriber = watchedSubscriber('test:subscriber-restart');
    try {
      await subscriber.redis.subscribe('a', 'b');
      await publishUntilReceived(subscriber, 'a', 'before');
      for (let restart = 1; restart <= 3; restart += 1) {
        await server.restart();
        await waitForRedis(publisher, 10_000);
        await publishUntilReceived(subscriber, 'b', `after restart ${restart}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        // The restart itself closes the socket (ECONNRESET or ECONNREFUSED while Redis is down).
        const unexpected = subscriber.errors.filter((e) => !/ECONNRE(SET|FUSED)/.test(e.message));
        assert.deepEqual(unexpected.map((e) => e.message), [], `restart ${restart}`);
        assert.equal(subscriber.connects(), restart + 1, `restart ${restart}: one connection per Redis start`);
        assert.equal(subscriber.redis.status, 'ready');
      }
    } finally {
      subscriber.redis.disconnect();
    }
  });
});
