import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { ChatApi, ChatConnection } from '@chat/client';
import { createConversation, registerUser, type RegisteredUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

/** The SDK's side of presence and typing against a real stack: events, its own throttle, getPresence. */
describe('SDK presence and typing', () => {
  let stack: Stack;
  const connections: ChatConnection[] = [];

  function connect(user: RegisteredUser, replica: number) {
    const connection = new ChatConnection({ url: stack.wsUrls[replica] as string, token: user.token, WebSocket });
    const typing: { conversationId: string; user: string }[] = [];
    const presence: { user: string; online: boolean; lastSeen: string }[] = [];
    let ready = false;
    connection.on('typing', (event) => typing.push(event));
    connection.on('presence', (event) => presence.push(event));
    connection.on('ready', () => {
      ready = true;
    });
    connection.connect();
    connections.push(connection);
    return { connection, typing, presence, isReady: () => ready };
  }

  before(async () => {
    stack = await startStack({ gateways: 2, env: { PRESENCE_GRACE_MS: '200' } });
  });

  after(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await stack?.stop();
  });

  it('emits presence and typing, throttles typing on the client, and reads presence over REST', async () => {
    const [alice, bob] = await Promise.all([registerUser(stack.apiUrl), registerUser(stack.apiUrl)]);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username], 'sdk');
    const aliceSide = connect(alice, 0);
    await waitFor(aliceSide.isReady, 'alice ready');
    const bobSide = connect(bob, 1);
    await waitFor(bobSide.isReady, 'bob ready');
    await waitFor(() => aliceSide.presence.length === 1, 'bob online on alice side');
    assert.equal(aliceSide.presence[0]?.user, bob.username);
    assert.equal(aliceSide.presence[0]?.online, true);

    assert.equal(bobSide.connection.typing(conversation.id), true);
    assert.equal(bobSide.connection.typing(conversation.id), false, 'within 2 s the SDK does not send');
    await waitFor(() => aliceSide.typing.length === 1, 'the typing event');
    assert.deepEqual(aliceSide.typing, [{ conversationId: conversation.id, user: bob.username }]);

    const api = new ChatApi({ baseUrl: stack.apiUrl, token: alice.token });
    const items = await api.getPresence([bob.username, alice.username]);
    assert.deepEqual(
      items.map(({ user, online }) => ({ user, online })),
      [
        { user: bob.username, online: true },
        { user: alice.username, online: true },
      ],
    );

    await bobSide.connection.close();
    await waitFor(() => aliceSide.presence.length === 2, 'bob offline on alice side');
    assert.equal(aliceSide.presence[1]?.online, false);
  });
});
