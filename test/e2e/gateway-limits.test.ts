import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { connectClient, refusedUpgradeStatus, type TestSocket } from '../support/ws-client.js';

describe('gateway limits', () => {
  let stack: Stack;
  const sockets: TestSocket[] = [];

  before(async () => {
    stack = await startStack({
      gateways: 2,
      env: { MAX_SOCKETS_PER_USER: '2', MAX_SOCKETS: '4', CLIENT_FRAMES_PER_SECOND: '5' },
    });
  });
  after(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    await stack?.stop();
  });

  async function connect(replica: number, token: string): Promise<TestSocket> {
    const socket = await connectClient(stack.wsUrls[replica] as string, token);
    sockets.push(socket);
    return socket;
  }

  it('limits the sockets of one user across replicas (429), and frees a slot on close', async () => {
    const user = await registerUser(stack.apiUrl);
    await connect(0, user.token);
    const second = await connect(1, user.token);
    const url = `${stack.wsUrls[0]}?token=${user.token}`;
    assert.equal(await refusedUpgradeStatus(url), 429);
    await second.close();
    // The slot is released once the gateway sees the close: allow it a moment, bounded.
    let opened: TestSocket | undefined;
    for (let attempt = 0; attempt < 50 && !opened; attempt += 1) {
      opened = await connectClient(stack.wsUrls[1] as string, user.token).catch(() => undefined);
      if (!opened) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(opened, 'a socket can open again after one closed');
    sockets.push(opened);
  });

  it('refuses upgrades with 503 once a replica holds its maximum', async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => registerUser(stack.apiUrl)));
    // Replica 1 already holds sockets from the previous test; fill it up to 4.
    const statuses: number[] = [];
    for (const user of users) {
      const status = await connectClient(stack.wsUrls[1] as string, user.token).then(
        (socket) => {
          sockets.push(socket);
          return 101;
        },
        () => refusedUpgradeStatus(`${stack.wsUrls[1]}?token=${user.token}`),
      );
      statuses.push(status);
    }
    assert.ok(statuses.includes(503), `some upgrade refused with 503: ${statuses.join(',')}`);
    const metrics = await (await fetch(`${stack.gatewayUrls[1]}/metrics`)).text();
    assert.match(metrics, /^chat_gateway_open_sockets\{[^}]*\} 4$/m);
  });

  it('answers a flood of client frames with rate_limited, then closes with 1008', async () => {
    const socket = await connect(0, (await registerUser(stack.apiUrl)).token);
    for (let i = 0; i < 200 && socket.ws.readyState === socket.ws.OPEN; i += 1) socket.send({ type: 'ping' });
    const limited = await socket.nextFrame('error');
    assert.equal(limited.code, 'rate_limited');
    assert.equal((await socket.closed).code, 1008);
    assert.ok(socket.frames.filter((frame) => frame.type === 'pong').length <= 12, 'at most a burst of pongs');
  });
});
