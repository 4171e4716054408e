import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { createDevEdge, freePort, type DevEdgeServer } from '@chat/devstack';

const WAIT_MS = 5_000;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An upstream that answers every request with what it saw, so tests can check the forwarding. */
function echoServer(name: string): Server {
  return createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        upstream: name,
        method: req.method,
        url: req.url,
        forwardedFor: req.headers['x-forwarded-for'] ?? null,
        forwardedProto: req.headers['x-forwarded-proto'] ?? null,
      }),
    );
  });
}

/** A gateway stand-in: on /ws it greets each socket with its own name; /healthz answers 200. */
function gatewayServer(name: string): Server {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 404);
    res.end();
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (socket, req) => {
    socket.send(JSON.stringify({ replica: name, forwardedProto: req.headers['x-forwarded-proto'] ?? null }));
  });
  server.on('close', () => wss.close());
  return server;
}

type WsOutcome = { opened: true; greeting: { replica: string; forwardedProto: string | null } } | { opened: false; status: number; body: string };

/** Connects, and resolves with the first frame, or with the HTTP answer when the upgrade is refused. */
function connect(url: string): Promise<WsOutcome> {
  return withTimeout(
    new Promise<WsOutcome>((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once('message', (data) => {
        resolve({ opened: true, greeting: JSON.parse(String(data)) });
        socket.close();
      });
      socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ opened: false, status: res.statusCode ?? 0, body }));
      });
      socket.once('error', (error) => {
        // ws reports a refused upgrade as an error too, right after 'unexpected-response'.
        if (!/Unexpected server response/.test(error.message)) reject(error);
      });
    }),
    `a WebSocket answer from ${url}`,
  );
}

/** A raw GET, so the path reaches the edge exactly as written (fetch would normalise `..`). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(base);
      const req = request({ hostname, port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    }),
    `GET ${path}`,
  );
}

describe('dev edge', () => {
  const servers: Server[] = [];
  const edges: DevEdgeServer[] = [];
  let staticDir: string;
  let edgeUrl: string;

  async function startEdge(apiUrl: string, gatewayUrls: string[], extra: { staticDir?: string } = {}): Promise<string> {
    const edge = createDevEdge({ apiUrl, gatewayUrls, ...extra });
    edges.push(edge);
    return listen(edge);
  }

  async function upstream(server: Server): Promise<string> {
    servers.push(server);
    return listen(server);
  }

  before(async () => {
    staticDir = await mkdtemp(join(tmpdir(), 'devstack-edge-'));
    await mkdir(join(staticDir, 'assets'));
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>chat</title>');
    await writeFile(join(staticDir, 'assets', 'app.js'), 'console.log("hi");');
    const apiUrl = await upstream(echoServer('api'));
    const gatewayA = await upstream(gatewayServer('A'));
    const gatewayB = await upstream(gatewayServer('B'));
    edgeUrl = await startEdge(apiUrl, [gatewayA, gatewayB], { staticDir });
  });

  after(async () => {
    await Promise.all(edges.map((edge) => edge.shutdown()));
    await Promise.all(servers.map(close));
    await rm(staticDir, { recursive: true, force: true });
  });

  test('/api/*, /healthz and /readyz go to the api with x-forwarded headers', async () => {
    for (const path of ['/api/conversations?after=3', '/healthz', '/readyz']) {
      const response = await fetch(`${edgeUrl}${path}`);
      assert.equal(response.status, 200, path);
      assert.deepEqual(await response.json(), {
        upstream: 'api',
        method: 'GET',
        url: path,
        forwardedFor: '127.0.0.1',
        forwardedProto: 'http',
      });
    }
    const posted = await fetch(`${edgeUrl}/api/auth/login`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(((await posted.json()) as { method: string }).method, 'POST');
  });

  test('WebSocket upgrades on /ws alternate between the gateway replicas', async () => {
    const replicas: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const outcome = await connect(`${edgeUrl.replace('http', 'ws')}/ws?token=abc`);
      assert.equal(outcome.opened, true);
      if (outcome.opened) {
        replicas.push(outcome.greeting.replica);
        assert.equal(outcome.greeting.forwardedProto, 'ws');
      }
    }
    assert.deepEqual([...replicas].sort(), ['A', 'A', 'B', 'B']);
    assert.notEqual(replicas[0], replicas[1]);
    assert.equal(replicas[0], replicas[2]);
  });

  test('a plain GET /ws is answered 426 with a JSON error', async () => {
    const response = await fetch(`${edgeUrl}/ws`);
    assert.equal(response.status, 426);
    assert.equal(response.headers.get('upgrade'), 'websocket');
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'upgrade_required');
    assert.equal(typeof body.error.message, 'string');
  });

  test('unknown paths and unknown upgrade paths are 404 JSON not_found', async () => {
    // /metrics is the api's, read on its own port: the edge does not expose it.
    for (const [method, path] of [['GET', '/nope'], ['POST', '/'], ['DELETE', '/assets/app.js'], ['GET', '/metrics']] as const) {
      const response = await fetch(`${edgeUrl}${path}`, { method });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'not_found');
    }
    const outcome = await connect(`${edgeUrl.replace('http', 'ws')}/elsewhere`);
    assert.equal(outcome.opened, false);
    if (!outcome.opened) {
      assert.equal(outcome.status, 404);
      assert.equal((JSON.parse(outcome.body) as { error: { code: string } }).error.code, 'not_found');
    }
  });

  test('files of the static dir are served, and nothing outside it', async () => {
    const index = await fetch(`${edgeUrl}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await index.text(), /<title>chat<\/title>/);
    const script = await fetch(`${edgeUrl}/assets/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    // File names carry no content hash: every load revalidates, as at the nginx edge.
    for (const response of [index, script]) assert.equal(response.headers.get('cache-control'), 'no-cache');
    const head = await fetch(`${edgeUrl}/assets/app.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength('console.log("hi");')));
    assert.equal(await head.text(), '');
    for (const path of ['/../../../../etc/passwd', '/..%2f..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/hostname', '/%E0%A4%A']) {
      const escaped = await rawGet(edgeUrl, path);
      assert.equal(escaped.status, 404, path);
      assert.equal((JSON.parse(escaped.body) as { error: { code: string } }).error.code, 'not_found', path);
    }
  });

  test('an api that is down gives 502 JSON unavailable, without internals', async () => {
    const deadApi = `http://127.0.0.1:${await freePort()}`;
    const gateway = await upstream(gatewayServer('C'));
    const edge = await startEdge(deadApi, [gateway]);
    const response = await fetch(`${edge}/api/me`);
    assert.equal(response.status, 502);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unavailable');
    assert.doesNotMatch(body.error.message, /ECONNREFUSED|at .*\.js/);
  });

  test('a gateway replica that is down gets no new sockets, and gets them again once it is back', async () => {
    const deadPort = await freePort();
    const liveGateway = await upstream(gatewayServer('D'));
    const apiUrl = await upstream(echoServer('api'));
    // Checks only when the test asks (the interval is longer than the test).
    const edge = createDevEdge({ apiUrl, gatewayUrls: [`http://127.0.0.1:${deadPort}`, liveGateway], healthCheckIntervalMs: 60_000 });
    edges.push(edge);
    const edgeWs = (await listen(edge)).replace('http', 'ws');
    await edge.checkReplicas();

    // Round robin would start at the dead replica: its failed health checks took it out.
    for (let i = 0; i < 4; i += 1) {
      const outcome = await connect(`${edgeWs}/ws`);
      assert.equal(outcome.opened && outcome.greeting.replica, 'D', `connection ${i + 1}: ${JSON.stringify(outcome)}`);
    }

    // The replica comes back on its port: once it answers a health check it gets new sockets again.
    const revived = gatewayServer('E');
    servers.push(revived);
    await new Promise<void>((resolve, reject) => {
      revived.once('error', reject);
      revived.listen(deadPort, '127.0.0.1', () => resolve());
    });
    await edge.checkReplicas();
    const replicas = new Set<string>();
    for (let i = 0; i < 4; i += 1) {
      const outcome = await connect(`${edgeWs}/ws`);
      assert.equal(outcome.opened, true, JSON.stringify(outcome));
      if (outcome.opened) replicas.add(outcome.greeting.replica);
    }
    assert.deepEqual([...replicas].sort(), ['D', 'E']);
  });

  test('with every replica down the upgrade gets 502 JSON unavailable', async () => {
    const apiUrl = await upstream(echoServer('api'));
    const dead = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const edge = (await startEdge(apiUrl, dead)).replace('http', 'ws');
    const outcome = await connect(`${edge}/ws`);
    assert.equal(outcome.opened, false);
    if (!outcome.opened) {
      assert.equal(outcome.status, 502);
      assert.equal((JSON.parse(outcome.body) as { error: { code: string } }).error.code, 'unavailable');
    }
  });
});
