import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { apiRequest, createConversation, registerUser, type RegisteredUser } from '../support/api-client.js';
import { ResilientClient } from '../support/resilient-client.js';
import type { Stack } from '../support/stack.js';

export interface Room {
  users: RegisteredUser[];
  conversationId: string;
  clients: ResilientClient[];
}

/** `members` users in one conversation, each with a resilient client, spread over the replicas. */
export async function openRoom(stack: Stack, members: number): Promise<Room> {
  const users = await Promise.all(Array.from({ length: members }, () => registerUser(stack.apiUrl)));
  const [owner, ...others] = users as [RegisteredUser, ...RegisteredUser[]];
  const conversation = await createConversation(stack.apiUrl, owner.token, others.map((user) => user.username), 'fault room');
  const clients = users.map((user, index) => new ResilientClient(stack.wsUrls, user.token, index));
  for (const client of clients) client.track(conversation.id);
  await Promise.all(clients.map((client) => client.start()));
  return { users, conversationId: conversation.id, clients };
}

/** The conversation's last seq as the store has it (acknowledged or not), read over REST. */
export async function storedLastSeq(apiUrl: string, token: string, conversationId: string): Promise<number> {
  let after = 0;
  for (let page = 0; page < 1000; page += 1) {
    const response = await apiRequest(apiUrl, 'GET', `/api/conversations/${conversationId}/messages?after=${after}&limit=500`, { token });
    assert.equal(response.status, 200, response.text);
    const body = response.body as { items: { seq: number }[]; nextAfter: number | null };
    after = body.items.at(-1)?.seq ?? after;
    if (body.nextAfter === null) return after;
  }
  throw new Error('too many pages');
}

/**
 * Waits until every client has every stored seq (and, when given, every acknowledged edit or
 * deletion, or a later version of its message), then asserts 0 lost, 0 duplicated, 0 out of
 * order (rev order, messages and updates alike), and prints the books of each client.
 */
export async function assertEveryoneGotEverything(
  t: TestContext,
  room: Room,
  lastSeq: number,
  acknowledged: readonly number[],
  timeoutMs = 20_000,
  changes: readonly { seq: number; rev: number }[] = [],
): Promise<void> {
  assert.ok(lastSeq > 0, 'something was posted');
  const outcomes = await Promise.allSettled(room.clients.map((client) => client.waitForAll(room.conversationId, lastSeq, timeoutMs, changes)));
  const lines = room.clients.map((client, index) => {
    const books = client.booksOf(room.conversationId);
    const lost = client.missing(room.conversationId, lastSeq).length;
    const messages = `messages: expected ${lastSeq} received ${books.received} lost ${lost} duplicated ${books.duplicated} out-of-order ${books.outOfOrder}`;
    const { updates } = books;
    const lostChanges = client.missingChanges(room.conversationId, changes).length;
    const edits = changes.length === 0 ? '' : ` | updates: expected ${changes.length} received ${updates.received} lost ${lostChanges} duplicated ${updates.duplicated} out-of-order ${updates.outOfOrder}`;
    return `client ${index}: ${messages}${edits} | reconnects ${client.reconnects} closes [${client.closeCodes.join(',')}]`;
  });
  t.diagnostic(`stored ${lastSeq}, acknowledged ${acknowledged.length}${changes.length === 0 ? '' : `, changes acknowledged ${changes.length}`}`);
  for (const line of lines) t.diagnostic(line);
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  const acknowledgedSet = new Set(acknowledged);
  assert.ok([...acknowledgedSet].every((seq) => seq <= lastSeq), 'every acknowledged message is stored');
  for (const [index, client] of room.clients.entries()) {
    const books = client.booksOf(room.conversationId);
    assert.deepEqual(client.missing(room.conversationId, lastSeq), [], `client ${index} lost nothing`);
    assert.deepEqual(client.missingChanges(room.conversationId, changes), [], `client ${index} lost no change`);
    assert.equal(books.duplicated, 0, `client ${index} got no duplicates`);
    assert.equal(books.outOfOrder, 0, `client ${index} got nothing out of order`);
    assert.equal(books.updates.duplicated, 0, `client ${index} got no duplicate update`);
    assert.equal(books.updates.outOfOrder, 0, `client ${index} got no update out of order`);
  }
}

export async function closeRoom(room: Room | undefined): Promise<void> {
  await Promise.all(room?.clients.map((client) => client.stop()) ?? []);
}
