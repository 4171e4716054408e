import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { wireFrame } from '../../services/gateway/src/wire-frames.js';

/**
 * wire-frames.ts: the bytes a gateway writes straight to a socket for a shared frame must be the
 * frame ws would have sent: a real ws client reads them, at every length encoding (7-bit, 16-bit,
 * 64-bit), in order with frames sent through ws itself.
 */

let server: WebSocketServer;
let url: string;
let serverSide: Promise<{ socket: WebSocket; transport: Duplex }>;

before(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  serverSide = new Promise((resolve) => {
    server.once('connection', (socket, request) => resolve({ socket, transport: request.socket }));
  });
});

after(async () => {
  for (const client of server.clients) client.terminate();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('a ws client reads wire frames of every length, in order with frames ws sent', async () => {
  const client = new WebSocket(url);
  const received: string[] = [];
  const sizes = [2, 125, 126, 300, 65_535, 65_536, 200_000];
  const expected: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${received.length} of ${expected.length} frames`)), 10_000);
    client.on('message', (data, isBinary) => {
      assert.equal(isBinary, false);
      received.push(data.toString());
      if (received.length === expected.length) {
        clearTimeout(timer);
        resolve();
      }
    });
    client.on('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  const { socket, transport } = await serverSide;
  for (const size of sizes) {
    const payload = Buffer.from(JSON.stringify({ n: size, pad: 'é'.repeat(Math.max(0, Math.floor((size - 20) / 2))) }));
    const wire = wireFrame(payload);
    // Built once per payload: the same Buffer for every socket it goes to.
    assert.equal(wireFrame(payload), wire);
    transport.write(wire);
    expected.push(payload.toString());
    const own = JSON.stringify({ own: size });
    socket.send(own, { binary: false });
    expected.push(own);
  }
  await done;
  assert.deepEqual(received, expected);
  client.close();
});
