import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { freePort } from '@chat/devstack';
import { createKeys, createWebhookDeadLetters, type WebhookDeadLetter } from '@chat/store';
import { createConversation, postMessage, registerUser, type RegisteredUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { connectClient, type TestSocket } from '../support/ws-client.js';
import { waitFor } from '../support/wait-for.js';

type Posted = Awaited<ReturnType<typeof postMessage>>;

const SECRET = randomBytes(24).toString('hex');
/** 100 ms backoff doubling: the last of 6 attempts comes ~3.1 s after the first. */
const ATTEMPTS = 6;

interface Received {
  body: { event: string; message: { id: string; text: string; author: string }; recipients: string[] };
  raw: string;
  signature: string;
  status: number;
}

/** Notifications per recipient per minute in this stack. */
const PER_RECIPIENT = 4;
/** How long the receiver takes to answer a body whose text starts with `slow`. */
const SLOW_RECEIVER_MS = 2000;

/** What a receiver does with the body's text: `fail-<status>-<times>` answers status that many times, then 200. */
function answerFor(text: string, attemptsSoFar: number): number {
  const match = /^fail-(\d{3})-(\d+|always)/.exec(text);
  if (!match) return 200;
  const times = match[2] === 'always' ? Number.POSITIVE_INFINITY : Number(match[2]);
  return attemptsSoFar < times ? Number(match[1]) : 200;
}

/** Verifies `X-Chat-Signature` as the README tells a receiver to: HMAC-SHA256 of "t.body", recent t. */
function verifySignature(header: string, raw: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300 || !parts.v1) return false;
  const expected = createHmac('sha256', SECRET).update(`${parts.t}.${raw}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Offline notifications through real processes and a real local HTTP receiver: who is notified,
 * the signature, retries on 5xx and none on 4xx, the dead letters, and a receiver that was down.
 */
describe('offline notification webhooks', () => {
  let stack: Stack;
  let port: number;
  let receiver: Server | undefined;
  let redis: Redis;
  const received: Received[] = [];
  const sockets: TestSocket[] = [];

  async function startReceiver(): Promise<void> {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        const body = JSON.parse(raw) as Received['body'];
        const before = received.filter((entry) => entry.body.message.id === body.message.id).length;
        const status = answerFor(body.message.text, before);
        received.push({ body, raw, signature: String(req.headers['x-chat-signature'] ?? ''), status });
        const answer = () => res.writeHead(status).end();
        if (body.message.text.startsWith('slow')) setTimeout(answer, SLOW_RECEIVER_MS);
        else answer();
      });
    });
    receiver.listen(port, '127.0.0.1');
    await once(receiver, 'listening');
  }

  async function stopReceiver(): Promise<void> {
    const server = receiver;
    receiver = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  const attemptsFor = (id: string) => received.filter((entry) => entry.body.message.id === id);
  const accepted = (id: string) => attemptsFor(id).filter((entry) => entry.status === 200);

  async function deadLetters(): Promise<WebhookDeadLetter[]> {
    return createWebhookDeadLetters(redis, createKeys(stack.prefix)).list(1000);
  }

  async function waitForDeadLetter(id: string): Promise<WebhookDeadLetter> {
    let found: WebhookDeadLetter | undefined;
    const started = Date.now();
    while (!found) {
      found = (await deadLetters()).find((entry) => entry.webhook.message.id === id);
      if (!found) {
        if (Date.now() - started > 15_000) throw new Error(`no dead letter for ${id}`);
        await sleep(50);
      }
    }
    return found;
  }

  async function trio(): Promise<[RegisteredUser, RegisteredUser, RegisteredUser]> {
    return Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
  }

  before(async () => {
    port = await freePort();
    await startReceiver();
    stack = await startStack({
      gateways: 2,
      env: {
        WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/chat`,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_ATTEMPTS: String(ATTEMPTS),
        WEBHOOK_BACKOFF_MS: '100',
        WEBHOOK_TIMEOUT_MS: String(SLOW_RECEIVER_MS * 2),
        WEBHOOK_RATE_PER_RECIPIENT: String(PER_RECIPIENT),
      },
    });
    redis = new Redis(stack.redis.url);
  });

  after(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    await stack?.stop();
    redis?.disconnect();
    await stopReceiver();
  });

  it('POSTs one signed body per message naming the members with no live socket, never the author or anyone online', async () => {
    const [alice, bob, carol] = await trio();
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username, carol.username], 'webhooks');
    const carolSocket = await connectClient(stack.wsUrls[1] as string, carol.token);
    sockets.push(carolSocket);
    const message = await postMessage(stack.apiUrl, alice.token, conversation.id, 'are you there?');

    await waitFor(() => accepted(message.id).length === 1, 'the webhook');
    const [hook] = attemptsFor(message.id);
    assert.ok(hook);
    assert.deepEqual(hook.body, {
      event: 'message.offline',
      message: { ...message, conversationTitle: 'webhooks' },
      recipients: [bob.username],
    });
    assert.ok(verifySignature(hook.signature, hook.raw), `signature ${hook.signature} checks out`);
    assert.ok(!verifySignature(hook.signature, hook.raw.replace('are you there?', 'are you here?')), 'a changed body does not');
    await carolSocket.waitForMessages(1, conversation.id);
  });

  it('sends nothing when every other member is online', async () => {
    const [alice, bob] = await trio();
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'all here');
    const bobSocket = await connectClient(stack.wsUrls[0] as string, bob.token);
    sockets.push(bobSocket);
    const quiet = await postMessage(stack.apiUrl, alice.token, conversation.id, 'you are online');
    await bobSocket.waitForMessages(1, conversation.id);
    // bob leaves: the next message is for the webhook, and arrives after the first would have.
    await bobSocket.close();
    // The gateway releases bob's socket lease when it handles the close, a moment after the
    // client's side is closed (longer on a busy machine): the next message is owed a webhook only
    // once no live lease of his is left, so wait for that rather than race it.
    const leases = createKeys(stack.prefix).userSockets(bob.username);
    const deadline = Date.now() + 10_000;
    while ((await redis.zcount(leases, Date.now(), '+inf')) > 0) {
      if (Date.now() > deadline) throw new Error('bob still holds a live socket lease 10 s after closing');
      await sleep(20);
    }
    const loud = await postMessage(stack.apiUrl, alice.token, conversation.id, 'you left');
    await waitFor(() => accepted(loud.id).length === 1, 'the webhook of the message after bob left');
    assert.deepEqual(attemptsFor(quiet.id), []);
    assert.deepEqual(attemptsFor(loud.id)[0]?.body.recipients, [bob.username]);
  });

  it('retries after 500s and delivers once the receiver recovers', async () => {
    const [alice, bob] = await trio();
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'flaky receiver');
    const message = await postMessage(stack.apiUrl, alice.token, conversation.id, 'fail-500-2');
    await waitFor(() => accepted(message.id).length === 1, 'the third attempt', 10_000);
    assert.deepEqual(
      attemptsFor(message.id).map((entry) => entry.status),
      [500, 500, 200],
    );
    for (const attempt of attemptsFor(message.id)) assert.ok(verifySignature(attempt.signature, attempt.raw), 'each attempt is signed');
  });

  it('does not retry after a 400, and dead-letters it', async () => {
    const [alice, bob] = await trio();
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'refusing receiver');
    const message = await postMessage(stack.apiUrl, alice.token, conversation.id, 'fail-400-always');
    const dead = await waitForDeadLetter(message.id);
    assert.equal(dead.status, 400);
    assert.equal(dead.attempts, 1);
    assert.deepEqual(dead.webhook.recipients, [bob.username]);
    await sleep(500);
    assert.equal(attemptsFor(message.id).length, 1, 'one attempt only');
  });

  it(`dead-letters a webhook that failed all ${ATTEMPTS} attempts`, async () => {
    const [alice, bob] = await trio();
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'broken receiver');
    const message = await postMessage(stack.apiUrl, alice.token, conversation.id, 'fail-503-always');
    const dead = await waitForDeadLetter(message.id);
    assert.equal(dead.status, 503);
    assert.equal(dead.attempts, ATTEMPTS);
    assert.deepEqual(
      attemptsFor(message.id).map((entry) => entry.status),
      Array(ATTEMPTS).fill(503),
    );
  });

  it('delivers everything exactly once to a receiver that was down for a while', async () => {
    const [alice, bob] = await trio();
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'receiver down');
    await stopReceiver();
    const messages: Posted[] = [];
    for (let i = 0; i < 3; i += 1) messages.push(await postMessage(stack.apiUrl, alice.token, conversation.id, `while down ${i}`));
    // Long enough for the first attempts (and retries) to fail against the closed port.
    await sleep(400);
    await startReceiver();
    await waitFor(() => messages.every((message) => accepted(message.id).length === 1), 'every message once the receiver is back', 15_000);
    await sleep(500);
    for (const message of messages) assert.equal(attemptsFor(message.id).length, 1, `${message.id} reached the receiver once`);
    assert.deepEqual(
      (await deadLetters()).filter((entry) => messages.some((message) => message.id === entry.webhook.message.id)),
      [],
    );
  });

  it(`notifies one recipient at most ${PER_RECIPIENT} times a minute, leaving them out of further bodies`, async () => {
    const [alice, bob, dan] = await trio();
    const busy = await createConversation(stack.apiUrl, alice.token, [bob.username], 'busy');
    const messages: Posted[] = [];
    for (let i = 0; i < PER_RECIPIENT + 2; i += 1) messages.push(await postMessage(stack.apiUrl, alice.token, busy.id, `busy ${i}`));
    // dan, in a conversation with bob, has room: bob is left out of his notification, he is not.
    const other = await createConversation(stack.apiUrl, alice.token, [bob.username, dan.username], 'with dan');
    const last = await postMessage(stack.apiUrl, alice.token, other.id, 'dan still gets this');
    await waitFor(() => accepted(last.id).length === 1, 'the notification for dan');
    // Which of bob's messages take his PER_RECIPIENT places is not promised: drains notify in the
    // background, and two in flight may reach the limiter in either order. How many is.
    const notified = () => messages.filter((message) => accepted(message.id).length === 1);
    await waitFor(() => notified().length === PER_RECIPIENT, `${PER_RECIPIENT} notifications for bob`);
    assert.deepEqual(attemptsFor(last.id)[0]?.body.recipients, [dan.username]);
    await sleep(300);
    assert.equal(notified().length, PER_RECIPIENT, 'no more once the limit is used');
    const over = messages.filter((message) => attemptsFor(message.id).length === 0);
    assert.equal(over.length, messages.length - PER_RECIPIENT, 'over the limit: no body');
  });

  it(`never delays a WebSocket delivery behind a receiver that takes ${SLOW_RECEIVER_MS} ms to answer`, async () => {
    const [alice, bob, carol] = await trio();
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username, carol.username], 'slow receiver');
    const carolSocket = await connectClient(stack.wsUrls[0] as string, carol.token);
    sockets.push(carolSocket);
    const started = Date.now();
    const slow: Posted[] = [];
    for (let i = 0; i < 3; i += 1) slow.push(await postMessage(stack.apiUrl, alice.token, conversation.id, `slow ${i}`));
    await carolSocket.waitForMessages(3, conversation.id, SLOW_RECEIVER_MS);
    const deliveredMs = Date.now() - started;
    assert.ok(deliveredMs < SLOW_RECEIVER_MS, `delivered in ${deliveredMs} ms while the receiver sat on the webhooks`);
    await waitFor(() => slow.every((message) => accepted(message.id).length === 1), 'the slow webhooks', 10_000);
  });
});
