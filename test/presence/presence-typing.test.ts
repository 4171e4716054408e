import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { apiRequest, assertErrorShape, createConversation, ISO_UTC, postMessage, registerUser, type RegisteredUser } from '../support/api-client.js';
import { sharedStack } from '../support/shared-fixtures.js';
import type { ServerFrame, TestSocket } from '../support/ws-client.js';

/** Short leases and grace so the bounds show in seconds; production defaults: README, Presence. */
const PRESENCE_TTL_MS = 1500;
const PRESENCE_GRACE_MS = 300;
const PRESENCE_SWEEP_INTERVAL_MS = 300;
/** The bound the README states for a dead replica: lease ttl + sweep interval. */
const DEAD_REPLICA_BOUND_MS = PRESENCE_TTL_MS + PRESENCE_SWEEP_INTERVAL_MS;
/** Long enough past the grace that an offline that was going to come has come. */
const QUIET_MS = PRESENCE_GRACE_MS * 3;

function presenceOf(socket: TestSocket, user: string): ServerFrame[] {
  return socket.frames.filter((frame) => frame.type === 'presence' && frame.user === user);
}

function typingOf(socket: TestSocket, conversationId?: string): ServerFrame[] {
  return socket.frames.filter((frame) => frame.type === 'typing' && (conversationId === undefined || frame.conversationId === conversationId));
}

/**
 * Presence and typing through real processes: api, worker and two gateway replicas on one
 * redis-server, users spread over both, one replica killed with SIGKILL at the end.
 */
describe('presence and typing across gateway replicas', () => {
  const { stack, connect } = sharedStack({
    gateways: 2,
    env: {
      PRESENCE_TTL_MS: String(PRESENCE_TTL_MS),
      PRESENCE_GRACE_MS: String(PRESENCE_GRACE_MS),
      PRESENCE_SWEEP_INTERVAL_MS: String(PRESENCE_SWEEP_INTERVAL_MS),
    },
  });

  /** Every frame the socket sent before this has been handled by its gateway (frames are handled in order). */
  async function handled(socket: TestSocket): Promise<void> {
    const from = socket.frames.length;
    socket.send({ type: 'ping' });
    await socket.nextFrame('pong', from);
  }

  /** Four fresh users (a test takes the ones it needs). */
  async function users(): Promise<[RegisteredUser, RegisteredUser, RegisteredUser, RegisteredUser]> {
    return Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl), registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
  }

  it('relays typing to the other members on both replicas, never to the typer or a non-member, throttled to one per 2 s across replicas', async () => {
    const [alice, bob, carol] = await users();
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'typing');
    const aliceHere = await connect(0, alice);
    const aliceThere = await connect(1, alice);
    const bobThere = await connect(1, bob);
    const bobHere = await connect(0, bob);
    const carolSocket = await connect(1, carol);

    const startedAt = Date.now();
    aliceHere.send({ type: 'typing', conversationId: conversation.id });
    const expected = { type: 'typing', conversationId: conversation.id, user: alice.username };
    for (const socket of [bobThere, bobHere]) {
      await socket.waitUntil(() => typingOf(socket).length === 1, 'the typing frame');
      assert.deepEqual(typingOf(socket), [expected]);
    }

    // Again at once, from her socket on the other replica: dropped.
    aliceThere.send({ type: 'typing', conversationId: conversation.id });
    await handled(aliceThere);
    // A message published after it on the same channel: when bob has it, a relayed typing would be there too.
    await postMessage(stack.apiUrl, alice.token, conversation.id, 'barrier');
    await bobHere.waitForMessages(1, conversation.id);
    await bobThere.waitForMessages(1, conversation.id);
    assert.equal(typingOf(bobHere).length, 1, 'the second frame within 2 s is throttled');
    assert.equal(typingOf(bobThere).length, 1);
    assert.deepEqual([...typingOf(aliceHere), ...typingOf(aliceThere)], [], "the typer's own sockets get nothing");
    assert.deepEqual(typingOf(carolSocket), [], 'a non-member gets nothing');

    // Once the 2 s have passed, the next one goes through.
    await sleep(Math.max(0, startedAt + 2100 - Date.now()));
    aliceThere.send({ type: 'typing', conversationId: conversation.id });
    await bobHere.waitUntil(() => typingOf(bobHere).length === 2, 'a typing frame after the throttle');
    assert.deepEqual(typingOf(carolSocket), []);
  });

  it('answers typing by a non-member, or in no conversation, with not_found and relays nothing', async () => {
    const [alice, bob, mallory] = await users();
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'private');
    const bobSocket = await connect(1, bob);
    const mallorySocket = await connect(0, mallory);

    for (const conversationId of [conversation.id, 'nosuchconversation']) {
      const from = mallorySocket.frames.length;
      mallorySocket.send({ type: 'typing', conversationId });
      const error = await mallorySocket.nextFrame('error', from);
      assert.equal(error.code, 'not_found');
    }
    const from = mallorySocket.frames.length;
    mallorySocket.send({ type: 'typing', conversationId: 'not an id!' });
    assert.equal((await mallorySocket.nextFrame('error', from)).code, 'invalid_request');

    await postMessage(stack.apiUrl, alice.token, conversation.id, 'barrier');
    await bobSocket.waitForMessages(1, conversation.id);
    assert.deepEqual(typingOf(bobSocket), []);
  });

  it('announces online at the first socket on any replica and offline after the last one everywhere, to co-members only', async () => {
    const [dave, erin, frank] = await users();
    await createConversation(stack.apiUrl, erin.token, [dave.username], 'erin and dave');
    // A second shared conversation: erin still gets each change once.
    await createConversation(stack.apiUrl, dave.token, [erin.username], 'dave and erin');
    await createConversation(stack.apiUrl, frank.token, [erin.username], 'frank and erin');
    const erinSocket = await connect(1, erin);
    const frankSocket = await connect(0, frank);

    const daveHere = await connect(0, dave);
    await erinSocket.waitUntil(() => presenceOf(erinSocket, dave.username).length === 1, 'dave online');
    const [online] = presenceOf(erinSocket, dave.username);
    assert.equal(online?.online, true);
    assert.match(String(online?.lastSeen), ISO_UTC);

    // A second socket on the other replica, then the first one closes: he stays online.
    const daveThere = await connect(1, dave);
    await daveHere.close();
    await sleep(QUIET_MS);
    assert.equal(presenceOf(erinSocket, dave.username).length, 1, 'no transition while a socket is open on another replica');

    const closedAt = Date.now();
    await daveThere.close();
    await erinSocket.waitUntil(() => presenceOf(erinSocket, dave.username).length === 2, 'dave offline');
    const offline = presenceOf(erinSocket, dave.username)[1];
    assert.equal(offline?.online, false);
    assert.ok(Math.abs(Date.parse(String(offline?.lastSeen)) - closedAt) < 1000, `lastSeen ${String(offline?.lastSeen)} is when he left`);
    assert.ok(Date.now() - closedAt >= PRESENCE_GRACE_MS, 'not before the grace period');

    await sleep(QUIET_MS);
    assert.equal(presenceOf(erinSocket, dave.username).length, 2, 'each change once, though they share two conversations');
    assert.deepEqual(presenceOf(frankSocket, dave.username), [], 'frank shares no conversation with dave');
    assert.deepEqual(presenceOf(daveThere, frank.username), []);
  });

  it('does not announce offline when the last socket is replaced on another replica within the grace period', async () => {
    const [gus, hal] = await users();
    await createConversation(stack.apiUrl, gus.token, [hal.username], 'reconnect');
    const halSocket = await connect(0, hal);
    const gusFirst = await connect(0, gus);
    await halSocket.waitUntil(() => presenceOf(halSocket, gus.username).length === 1, 'gus online');
    await gusFirst.close();
    await connect(1, gus);
    await sleep(QUIET_MS);
    assert.deepEqual(
      presenceOf(halSocket, gus.username).map((frame) => frame.online),
      [true],
    );
  });

  it('GET /api/presence answers for co-members and the caller only, and validates the list', async () => {
    const [ida, jon, kim, stranger] = await users();
    await createConversation(stack.apiUrl, ida.token, [jon.username, kim.username], 'presence route');
    await connect(1, jon);
    const ask = (query: string, token = ida.token) => apiRequest(stack.apiUrl, 'GET', `/api/presence${query}`, { token });

    const answer = await ask(`?users=${jon.username},${kim.username},${stranger.username},nobody_here,${ida.username}`);
    assert.equal(answer.status, 200);
    const items = (answer.body as { items: { user: string; online: boolean; lastSeen: string | null }[] }).items;
    assert.deepEqual(
      items.map(({ user, online }) => ({ user, online })),
      [
        { user: jon.username, online: true },
        { user: kim.username, online: false },
        { user: ida.username, online: false },
      ],
    );
    assert.match(String(items[0]?.lastSeen), ISO_UTC);
    assert.equal(items[1]?.lastSeen, null, 'never seen online');

    const tooMany = Array.from({ length: 101 }, (_, i) => `user${i}`).join(',');
    for (const query of ['', '?users=', `?users=${tooMany}`, '?users=Not-Valid!', `?users=${jon.username},`, `?users=${jon.username}&other=1`]) {
      assertErrorShape(await ask(query), 400, 'invalid_request');
    }
    const hundred = Array.from({ length: 100 }, (_, i) => `user${i}`).join(',');
    assert.equal((await ask(`?users=${hundred}`)).status, 200);
    const anonymous = await apiRequest(stack.apiUrl, 'GET', `/api/presence?users=${jon.username}`);
    assert.equal(anonymous.status, 401);
  });

  it('takes the users of a replica stalled past its leases offline, and back online when it resumes, without a reconnect', async () => {
    const [oli, pam] = await users();
    await createConversation(stack.apiUrl, oli.token, [pam.username], 'stall');
    const pamSocket = await connect(1, pam);
    const oliSocket = await connect(0, oli);
    await pamSocket.waitUntil(() => presenceOf(pamSocket, oli.username).length === 1, 'oli online');
    const pid = stack.gateways[0]?.pid as number;
    process.kill(pid, 'SIGSTOP');
    try {
      await pamSocket.waitUntil(() => presenceOf(pamSocket, oli.username).length === 2, 'oli offline', DEAD_REPLICA_BOUND_MS + 5000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Its next renewal finds the lapsed lease, takes it again and announces him.
    await pamSocket.waitUntil(() => presenceOf(pamSocket, oli.username).length === 3, 'oli online again', PRESENCE_TTL_MS + 5000);
    assert.deepEqual(
      presenceOf(pamSocket, oli.username).map((frame) => frame.online),
      [true, false, true],
    );
    const answer = await apiRequest(stack.apiUrl, 'GET', `/api/presence?users=${oli.username}`, { token: pam.token });
    assert.equal((answer.body as { items: { online: boolean }[] }).items[0]?.online, true);
    await handled(oliSocket);
  });

  // Last: it kills a replica.
  it(`takes the users of a replica killed with SIGKILL offline within the lease ttl + sweep interval (${DEAD_REPLICA_BOUND_MS} ms here)`, async () => {
    const [lea, max, ned] = await users();
    await createConversation(stack.apiUrl, lea.token, [max.username, ned.username], 'crash');
    const maxSocket = await connect(1, max);
    await connect(0, lea);
    await maxSocket.waitUntil(() => presenceOf(maxSocket, lea.username).length === 1, 'lea online');
    // ned has sockets on both: the one on the surviving replica keeps him online.
    await connect(0, ned);
    await connect(1, ned);
    await maxSocket.waitUntil(() => presenceOf(maxSocket, ned.username).length === 1, 'ned online');

    const killedAt = Date.now();
    await stack.gateways[0]?.kill();
    await maxSocket.waitUntil(() => presenceOf(maxSocket, lea.username).length === 2, 'lea offline', DEAD_REPLICA_BOUND_MS + 5000);
    const tookMs = Date.now() - killedAt;
    // Leases renewed a third of the ttl before the kill at most lapse within the ttl; the sweep runs every interval; plus scheduling slack.
    assert.ok(tookMs <= DEAD_REPLICA_BOUND_MS + 1000, `offline after ${tookMs} ms`);
    assert.equal(presenceOf(maxSocket, lea.username)[1]?.online, false);
    await sleep(PRESENCE_SWEEP_INTERVAL_MS * 3);
    assert.deepEqual(
      presenceOf(maxSocket, ned.username).map((frame) => frame.online),
      [true],
      'a user with a socket on a live replica stays online',
    );
    const answer = await apiRequest(stack.apiUrl, 'GET', `/api/presence?users=${lea.username},${ned.username}`, { token: max.token });
    assert.deepEqual(
      (answer.body as { items: { user: string; online: boolean }[] }).items.map(({ user, online }) => ({ user, online })),
      [
        { user: lea.username, online: false },
        { user: ned.username, online: true },
      ],
    );
  });
});
