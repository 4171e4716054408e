import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { freePort } from '@chat/devstack';

test('freePort returns a port that can be listened on at once', async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `not a port: ${port}`);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

test('freePort hands out different ports to concurrent callers', async () => {
  const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
  assert.ok(new Set(ports).size >= 7, `too many repeats: ${ports.join(', ')}`);
});
