import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import express from 'express';
import { createExpressServer } from '../../services/api/src/http/express-server.js';

// The server must hand express objects that already have express's prototypes (so express does
// not re-prototype them per request), and express must work on them exactly as on plain ones.
const app = express();
app.set('trust proxy', 'loopback');
app.use(express.json());
app.post('/echo/:id', (req, res) => {
  res.status(201).set('x-seen', req.get('x-probe') ?? '').json({ id: req.params.id, body: req.body, ip: req.ip });
});
app.head('/echo/:id', (_req, res) => {
  res.status(204).end();
});

const server = createExpressServer(app, { keepAliveTimeout: 1000 });
const seenBeforeExpress: { request: boolean; response: boolean }[] = [];
// Runs before express's own listener, i.e. before express could set any prototype itself.
server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
  seenBeforeExpress.push({
    request: Object.getPrototypeOf(req) === app.request,
    response: Object.getPrototypeOf(res) === app.response,
  });
});
let base = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('requests and responses are born with express prototypes and express works on them', async () => {
  const response = await fetch(`${base}/echo/a1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-probe': 'p', 'x-forwarded-for': '10.1.2.3' },
    body: JSON.stringify({ text: 'hi' }),
  });
  assert.equal(response.status, 201);
  assert.equal(response.headers.get('x-seen'), 'p');
  assert.deepEqual(await response.json(), { id: 'a1', body: { text: 'hi' }, ip: '10.1.2.3' });

  const head = await fetch(`${base}/echo/a1`, { method: 'HEAD' });
  assert.equal(head.status, 204);

  assert.ok(seenBeforeExpress.length >= 2);
  assert.ok(
    seenBeforeExpress.every((seen) => seen.request && seen.response),
    JSON.stringify(seenBeforeExpress),
  );
});
