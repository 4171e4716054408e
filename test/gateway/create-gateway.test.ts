import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTokenService } from '@chat/auth';
import { CloseCode, deliveryPartition } from '@chat/contracts';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { createMetricsRegistry } from '@chat/metrics';
import {
  connectRedis,
  createConversationStore,
  createDeliveryStore,
  createKeys,
  createMessageStore,
  createUserSocketSlots,
  observeStoreEpoch,
  redisAnswers,
  waitForRedis,
  type Redis,
} from '@chat/store';
import { createGateway } from '../../services/gateway/src/create-gateway.js';
import { waitFor } from '../support/wait-for.js';
import { connectClient } from '../support/ws-client.js';

// A gateway replica started in-process as its main.ts starts it, against a private redis-server:
// a socket gets `ready` and the frames published on its user's channel; stop() closes the socket
// with 1001, the server and every connection it was given, once however often it is called.

let server: RedisServerHandle;
/** The test's own connection: setup, and publishing as the worker does. */
let setup: Redis;
const keys = createKeys(`t${randomBytes(6).toString('hex')}`);
const tokens = createTokenService({ algorithm: 'HS256', secret: randomBytes(36).toString('base64url'), clockToleranceSeconds: 0, ttlSeconds: 600 });

before(async () => {
  server = await startRedisServer({});
  setup = connectRedis({ url: server.url, name: 'test:setup', role: 'command' });
  await waitForRedis(setup, 10_000);
});

after(async () => {
  setup?.disconnect();
  await server?.dispose();
});

function buildGateway() {
  const identity = createProcessIdentity('gateway');
  const logger = createLogger(identity, { level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
  const redis = connectRedis({ url: server.url, name: 'test:gateway:command', role: 'command' });
  const subscriber = connectRedis({ url: server.url, name: 'test:gateway:subscriber', role: 'subscriber' });
  const connections = [redis, subscriber];
  // main.ts has watchRedis listen; without a listener ioredis prints each error.
  for (const connection of connections) connection.on('error', (error: Error) => logger.debug({ err: { message: error.message } }, 'redis connection error'));
  // The token source as tokensFromEnv gives it, counting the calls the gateway makes.
  const jwt = {
    tokens,
    started: 0,
    stopped: 0,
    async start() {
      this.started += 1;
    },
    stop() {
      this.stopped += 1;
    },
  };
  const gateway = createGateway({
    logger,
    registry: createMetricsRegistry(identity),
    jwt,
    keys,
    conversations: createConversationStore(redis, keys),
    messages: createMessageStore(redis, keys),
    socketSlots: createUserSocketSlots(redis, keys),
    redis,
    subscriber,
    observeEpoch: () => observeStoreEpoch(redis, keys),
    isReady: () => redisAnswers(redis),
    settings: {
      host: '127.0.0.1',
      port: 0,
      closeTimeoutMs: 2000,
      maxFrameBytes: 16 * 1024,
      sendBufferLimitBytes: 4 * 1024 * 1024,
      heartbeatIntervalMs: 30_000,
      gapWaitMs: 30,
      subscribeTimeoutMs: 5000,
      clientFramesPerSecond: 20,
      resumeWindowMs: 0,
      maxSockets: 100,
      maxSocketsPerUser: 5,
    },
  });
  return { gateway, jwt, connections };
}

describe('createGateway', () => {
  test('started in-process it delivers its user channels to sockets; stop() closes them with 1001, then everything else', async () => {
    const { gateway, jwt, connections } = buildGateway();
    await waitForRedis(connections[0] as Redis, 10_000);
    await gateway.start();
    assert.equal(jwt.started, 1, 'start() loads the token keys');
    const { port } = gateway.server.address() as AddressInfo;

    const conversation = await createConversationStore(setup, keys).create({ title: 'in-process', createdBy: 'ann', users: ['ann', 'bob'] });
    const bob = await connectClient(`ws://127.0.0.1:${port}/ws`, tokens.sign('bob').token);
    try {
      assert.equal(gateway.connections.size, 1);
      const { message } = await createMessageStore(setup, keys).append(conversation.id, 'ann', 'hello, socket');
      const drained = await createDeliveryStore(setup, keys).drain(deliveryPartition(conversation.id), 256);
      assert.deepEqual([drained.delivered, drained.recipients], [1, 2]);
      await bob.waitForMessages(1, conversation.id);
      assert.deepEqual(bob.messages(conversation.id), [{ ...message, conversationTitle: 'in-process' }]);
    } finally {
      const stopping = gateway.stop();
      assert.equal(gateway.stop(), stopping, 'a second stop() returns the same promise');
      await stopping;
    }

    assert.equal((await bob.closed).code, CloseCode.GoingAway);
    assert.equal(gateway.server.listening, false);
    assert.equal(jwt.stopped, 1, 'stop() ends the token key refresh');
    const open = () => connections.filter((connection) => connection.status !== 'end');
    await waitFor(() => open().length === 0, 'the connections to close', 5000, () => open().map((c) => c.status).join(', '));
    await gateway.stop();
    assert.equal(jwt.stopped, 1, 'stopping again does nothing');
  });
});
