import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { ResilientClient } from '../support/resilient-client.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The fault tests' books (resilient-client.ts), driven by a scripted gateway (a real WebSocket
 * server whose frames the test chooses), for what the cluster failover test met in about 1 run
 * in 8: after `recovered: false` the new socket sends messages accepted shortly before its
 * `ready`, which the previous socket had delivered already, while the client's reload is under
 * way. The client merges them by seq, as the contract asks: not duplicates. A seq received live
 * twice since the reload still is one.
 */

const conversationId = 'c-1';

class ScriptedGateway {
  readonly sockets: WebSocket[] = [];
  readonly url: string;

  private constructor(private readonly server: WebSocketServer) {
    this.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
    server.on('connection', (ws) => this.sockets.push(ws));
  }

  static async start(): Promise<ScriptedGateway> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    return new ScriptedGateway(server);
  }

  async socket(index: number): Promise<WebSocket> {
    await waitFor(() => this.sockets.length > index, `connection #${index + 1}`, 5000);
    return this.sockets[index] as WebSocket;
  }

  stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const send = (ws: WebSocket, frame: object) => ws.send(JSON.stringify(frame));
const messages = (ws: WebSocket, seqs: number[]) => {
  for (const seq of seqs) send(ws, { type: 'message', data: { id: `m${seq}`, conversationId, seq, rev: seq, author: 'bob', text: `t${seq}`, createdAt: new Date(0).toISOString(), conversationTitle: 'scripted' } });
};
let gateway: ScriptedGateway | undefined;
let client: ResilientClient | undefined;

describe('the fault tests\' books after recovered: false', () => {
  afterEach(async () => {
    await client?.stop();
    await gateway?.stop();
    client = undefined;
    gateway = undefined;
  });

  it('counts live frames of seqs the client held before the reload as merged, not duplicated; a seq received twice since the reload still is a duplicate', async () => {
    gateway = await ScriptedGateway.start();
    let finishReload: ((seqs: number[]) => void) | undefined;
    client = new ResilientClient([gateway.url], 'token', 0, () => new Promise<number[]>((resolve) => (finishReload = resolve)));
    client.track(conversationId);
    const starting = client.start();
    const first = await gateway.socket(0);
    send(first, { type: 'ready', user: 'alice', epoch: 'epoch-A' });
    await starting;
    send(first, { type: 'resumed', recovered: true });
    messages(first, [1, 2, 3, 4, 5]);
    await waitFor(() => client?.booksOf(conversationId).last === 5, 'seqs 1..5', 5000);
    first.close(1013, 'store restarted; resume');

    // A new epoch: nothing replayed, but the new socket's stream starts with messages accepted
    // shortly before its `ready` (3, 4, 5: the first socket delivered them) while the reload runs.
    const second = await gateway.socket(1);
    send(second, { type: 'ready', user: 'alice', epoch: 'epoch-B' });
    send(second, { type: 'resumed', recovered: false, conversations: [conversationId] });
    messages(second, [3, 4, 5, 6]);
    await waitFor(() => finishReload !== undefined && client?.booksOf(conversationId).last === 6, 'the reload to start and seq 6', 5000);
    assert.equal(client.booksOf(conversationId).duplicated, 0, 'frames the previous socket had delivered are merged by seq');
    (finishReload as (seqs: number[]) => void)([1, 2, 3, 4, 5, 6, 7]);
    await waitFor(() => client?.resyncs === 1, 'the reload to finish', 5000);
    // The live frame of a seq the reload brought: merged too.
    messages(second, [7, 8]);
    await waitFor(() => client?.booksOf(conversationId).received === 11, '11 frames', 5000);
    let books = client.booksOf(conversationId);
    assert.deepEqual(
      { duplicated: books.duplicated, merged: books.merged, mergedWithReload: books.mergedWithReload, outOfOrder: books.outOfOrder },
      { duplicated: 0, merged: 4, mergedWithReload: 1, outOfOrder: 0 },
    );
    assert.deepEqual(client.missing(conversationId, 8), []);

    // Received live twice since the reload, on one socket and across a resume: duplicates.
    messages(second, [8]);
    second.close(1013, 'resume');
    const third = await gateway.socket(2);
    send(third, { type: 'ready', user: 'alice', epoch: 'epoch-B' });
    send(third, { type: 'resumed', recovered: true });
    messages(third, [6]);
    await waitFor(() => client?.booksOf(conversationId).received === 13, '13 frames', 5000);
    books = client.booksOf(conversationId);
    assert.deepEqual({ duplicated: books.duplicated, merged: books.merged, outOfOrder: books.outOfOrder }, { duplicated: 2, merged: 4, outOfOrder: 0 });
  });
});
