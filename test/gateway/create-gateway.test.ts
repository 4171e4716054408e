import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTokenService } from '@chat/auth';
import { CloseCode, MEMBERSHIP_MARKS, deliveryPartition } from '@chat/contracts';
import { startRedisServer, type RedisServerHandle } from '@chat/devstack';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { createMetricsRegistry } from '@chat/metrics';
import {
  connectRedis,
  createConversationStore,
  createDeliveryStore,
  createKeys,
  createMessageStore,
  createPresenceStore,
  createTypingStore,
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
// a socket gets `ready` and the frames published on its conversations' channels; stop() closes the
// socket with 1001, the server and every connection it was given, once however often it is called.

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
    presence: createPresenceStore(redis, keys),
    typing: createTypingStore(redis, keys),
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
      presenceTtlMs: 30_000,
      presenceGraceMs: 1000,
    },
  });
  return { gateway, jwt, connections };
}

describe('createGateway', () => {
  test('started in-process it delivers its conversations to sockets; stop() closes them with 1001, then everything else', async () => {
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

  test("follows a conversation joined while connected, and catches up from the store on what was published before it followed", async () => {
    const { gateway, connections } = buildGateway();
    await waitForRedis(connections[0] as Redis, 10_000);
    await gateway.start();
    const { port } = gateway.server.address() as AddressInfo;
    const url = `ws://127.0.0.1:${port}/ws`;
    const conversations = createConversationStore(setup, keys);
    const messages = createMessageStore(setup, keys);
    const drain = (id: string) => createDeliveryStore(setup, keys).drain(deliveryPartition(id), 256);
    const channels = async () => Number((await setup.pubsub('NUMSUB', keys.conversationChannel(joined.id)))[1]);
    const joined = await conversations.create({ title: 'joined later', createdBy: 'ann', users: [] });
    const dan = await connectClient(url, tokens.sign('dan').token);
    const eve = await connectClient(url, tokens.sign('eve').token);
    try {
      // Dan becomes a member without the notice reaching the gateway (as if it were published
      // before the gateway's subscription took effect): what is published now passes it by.
      await setup.zadd(keys.members(joined.id), 0, 'dan');
      await setup.zadd(keys.userConversations('dan'), Date.now(), joined.id);
      const { message: missed } = await messages.append(joined.id, 'ann', 'published before the gateway followed');
      assert.equal((await drain(joined.id)).delivered, 1);
      assert.equal(await channels(), 0, 'not followed yet');

      // The notice: the gateway follows the channel and reads what dan is owed from the store.
      await setup.publish(keys.userChannel('dan'), `${MEMBERSHIP_MARKS.joined}${joined.id}`);
      await dan.waitForMessages(1, joined.id);
      assert.deepEqual(dan.messages(joined.id).map((m) => m.seq), [missed.seq]);
      assert.equal(await channels(), 1);

      // Eve joins through the store's own update (its script publishes the notice): one
      // subscription for both, and the next message reaches both once.
      await conversations.update(joined.id, 'ann', { users: ['dan', 'eve'] });
      // Dan's subscription already receives the conversation: the event names eve, so she gets it
      // whether or not her notice was handled yet.
      const { message: both } = await messages.append(joined.id, 'ann', 'to dan and eve');
      await drain(joined.id);
      await Promise.all([dan.waitForMessages(2, joined.id), eve.waitForMessages(1, joined.id)]);
      assert.deepEqual(eve.messages(joined.id).map((m) => m.seq), [both.seq]);
      assert.equal(await channels(), 1, 'one subscription per conversation, whatever the members here');

      // Dan leaves: the event no longer names him; eve still holds the channel.
      await conversations.update(joined.id, 'ann', { users: ['eve'] });
      const { message: afterDan } = await messages.append(joined.id, 'ann', 'after dan left');
      await drain(joined.id);
      await eve.waitForMessages(2, joined.id);
      assert.deepEqual(eve.messages(joined.id).map((m) => m.seq), [both.seq, afterDan.seq]);
      assert.deepEqual(dan.messages(joined.id).map((m) => m.seq), [missed.seq, both.seq], 'nothing after his removal');

      // Eve leaves too: no member here any more, the channel is left.
      await conversations.update(joined.id, 'ann', { users: [] });
      for (const started = Date.now(); (await channels()) !== 0; await new Promise((resolve) => setTimeout(resolve, 10))) {
        assert.ok(Date.now() - started < 5000, 'the channel is left once no member is here');
      }
    } finally {
      await gateway.stop();
    }
  });

  test('after a pub/sub outage it follows the conversations joined meanwhile and replays what was published in them', async () => {
    const { gateway, connections } = buildGateway();
    const [command, subscriber] = connections as [Redis, Redis];
    await waitForRedis(command, 10_000);
    await gateway.start();
    const { port } = gateway.server.address() as AddressInfo;
    const conversations = createConversationStore(setup, keys);
    const messages = createMessageStore(setup, keys);
    const drain = (id: string) => createDeliveryStore(setup, keys).drain(deliveryPartition(id), 256);
    const fay = await connectClient(`ws://127.0.0.1:${port}/ws`, tokens.sign('fay').token);
    try {
      // The subscriber connection goes away: the notice of fay's new conversation and its first
      // message are published while nobody here listens.
      subscriber.disconnect();
      await waitFor(() => subscriber.status === 'end', 'the subscriber to close', 5000);
      const joined = await conversations.create({ title: 'during the outage', createdBy: 'ann', users: ['fay'] });
      const { message: missed } = await messages.append(joined.id, 'ann', 'published during the outage');
      await drain(joined.id);

      // Back: recovery reads fay's memberships, follows the new conversation and replays.
      await subscriber.connect();
      await fay.waitForMessages(1, joined.id, 10_000);
      assert.deepEqual(fay.messages(joined.id).map((m) => m.seq), [missed.seq]);

      // And it is followed from now on: the next message arrives live.
      const { message: live } = await messages.append(joined.id, 'ann', 'after the outage');
      await drain(joined.id);
      await fay.waitForMessages(2, joined.id);
      assert.deepEqual(fay.messages(joined.id).map((m) => m.seq), [missed.seq, live.seq]);
    } finally {
      await gateway.stop();
    }
  });
});
