import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDevEdge, type DevEdgeServer } from '@chat/devstack';
import { answerClientErrors } from '@chat/metrics';
import { startStack, type Stack } from '../support/stack.js';
import { HOSTILE_REQUESTS, rawHttpRequest } from '../support/raw-http.js';

/**
 * Requests node's HTTP parser refuses before any handler of ours runs, sent to every HTTP server
 * we run: the api, a gateway (its ops routes and its WebSocket upgrade path), the worker's ops
 * port and the dev edge. Each must answer in the contract's error shape and close; node's default
 * is a bare status line with an empty body. (nginx in front: test/edge/nginx-edge.test.ts.)
 */

/** What node's parser makes of each hostile request: its header limit (16 KiB) covers the request line. */
const EXPECTED: Record<keyof typeof HOSTILE_REQUESTS, { status: number; code: string }> = {
  oversizedHeader: { status: 431, code: 'invalid_request' },
  rawByteInPath: { status: 400, code: 'invalid_request' },
  overlongUrl: { status: 431, code: 'invalid_request' },
  garbage: { status: 400, code: 'invalid_request' },
};

/** The same refusals on a request that asks for a WebSocket upgrade on /ws. */
const HOSTILE_UPGRADES = {
  oversizedHeader: upgradeRequest('/ws', `Authorization: Bearer ${'a'.repeat(64 * 1024)}\r\n`),
  rawByteInPath: Buffer.concat([Buffer.from('GET /ws'), Buffer.from([0xff]), Buffer.from(upgradeRequest('', '').slice('GET '.length))]),
  overlongUrl: upgradeRequest(`/ws?token=${'a'.repeat(20_000)}`, ''),
} as const;

function upgradeRequest(path: string, extraHeaders: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: edge\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extraHeaders}\r\n`
  );
}

async function assertContractRefusal(url: string, request: Buffer | string, expected: { status: number; code: string }, label: string): Promise<void> {
  const answer = await rawHttpRequest(url, request);
  assert.equal(answer.status, expected.status, `${label}: status (body ${JSON.stringify(answer.body)})`);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/, `${label}: content-type`);
  assert.equal(answer.headers.connection, 'close', `${label}: connection`);
  const body = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(body.error?.code, expected.code, `${label}: code`);
  assert.equal(typeof body.error?.message, 'string', `${label}: message`);
  assert.doesNotMatch(answer.body, /HPE_|\bat\s|Error:/, `${label}: no parser internals in the answer`);
}

async function assertStillServing(url: string, label: string): Promise<void> {
  const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(response.status, 200, `${label} still answers /healthz`);
}

describe('parser refusals answered in the contract’s error shape', () => {
  let stack: Stack;
  let edge: DevEdgeServer;
  let edgeUrl: string;

  before(async () => {
    stack = await startStack({ gateways: 1 });
    edge = createDevEdge({ apiUrl: stack.apiUrl, gatewayUrls: stack.gatewayUrls });
    await new Promise<void>((resolve) => edge.listen(0, '127.0.0.1', resolve));
    edgeUrl = `http://127.0.0.1:${(edge.address() as AddressInfo).port}`;
  });
  after(async () => {
    await edge?.shutdown();
    await stack?.stop();
  });

  for (const [target, urlOf] of [
    ['api', () => stack.apiUrl],
    ['gateway', () => stack.gatewayUrls[0] ?? ''],
    ['worker', () => stack.workerUrl],
    ['dev edge', () => edgeUrl],
  ] as const) {
    it(`the ${target} answers each hostile request with a JSON error and keeps serving`, async () => {
      for (const [name, request] of Object.entries(HOSTILE_REQUESTS) as Array<[keyof typeof HOSTILE_REQUESTS, string | Buffer]>) {
        await assertContractRefusal(urlOf(), request, EXPECTED[name], `${target} ${name}`);
      }
      await assertStillServing(urlOf(), target);
    });
  }

  for (const [target, urlOf] of [
    ['gateway', () => stack.gatewayUrls[0] ?? ''],
    ['dev edge', () => edgeUrl],
  ] as const) {
    it(`the ${target}’s upgrade path answers each hostile upgrade with a JSON error`, async () => {
      for (const [name, request] of Object.entries(HOSTILE_UPGRADES) as Array<[keyof typeof HOSTILE_UPGRADES, string | Buffer]>) {
        await assertContractRefusal(urlOf(), request, EXPECTED[name], `${target} upgrade ${name}`);
      }
      await assertStillServing(urlOf(), target);
    });
  }
});

describe('answerClientErrors on a keep-alive connection and on a slow request', () => {
  const servers: Server[] = [];
  after(async () => {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
  });

  async function serve(listener: RequestListener, options: ServerOptions = {}): Promise<string> {
    const server = createServer(options, listener);
    answerClientErrors(server);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /**
   * Every byte the server sends on one connection, until it closes it (bounded). `afterFirstBytes`
   * is sent once the server's first bytes have arrived.
   */
  function exchange(url: string, request: string, afterFirstBytes?: string): Promise<string> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(request));
      if (afterFirstBytes !== undefined) socket.once('data', () => socket.write(afterFirstBytes));
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`the server did not close within 5 s; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
      }, 5_000);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('latin1'));
      });
    });
  }

  it('answers a malformed request after a complete answer on the same connection', async () => {
    const url = await serve((_req, res) => res.end('first'));
    const text = await exchange(url, 'GET / HTTP/1.1\r\nHost: x\r\n\r\nHELLO THERE\r\n\r\n');
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => match[1]);
    assert.deepEqual(statuses, ['200', '400'], text);
    assert.ok(text.endsWith('{"error":{"code":"invalid_request","message":"the request is not valid HTTP/1.1"}}'), text);
  });

  it('only closes a connection whose answer has begun: a second status line would corrupt it', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    const text = await exchange(url, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'HELLO THERE\r\n\r\n');
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => match[1]);
    assert.deepEqual(statuses, ['200'], text);
    assert.match(text, /partial/);
    assert.doesNotMatch(text, /"error"/);
  });

  it('answers 408 in the contract’s shape when the request does not arrive in time', async () => {
    const url = await serve((_req, res) => res.end('never'), { requestTimeout: 300, headersTimeout: 300, connectionsCheckingInterval: 50 });
    const answer = await rawHttpRequest(url, 'GET / HTTP/1.1\r\nHost: x\r\n');
    assert.equal(answer.status, 408, answer.body);
    assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(answer.headers.connection, 'close');
    assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'invalid_request');
  });
});
