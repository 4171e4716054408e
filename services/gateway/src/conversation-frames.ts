import type { ConversationFrame, ReadFrame } from '@chat/contracts';
import type { ConversationStore } from '@chat/store';
import type { ClientConnection } from './client-connection.js';
import type { ConnectionRegistry } from './connection-registry.js';

export interface ConversationFramesDeps {
  connections: ConnectionRegistry;
  conversations: Pick<ConversationStore, 'read'>;
  /** Whether this replica still follows the user's conversation (no `left` notice since). */
  follows(username: string, conversationId: string): boolean;
  onReadFailed(error: unknown): void;
}

/**
 * Turns the notices on a user's channel into frames for every socket of theirs here:
 * `conversation` (added, updated, removed) with the Conversation as that user sees it (their
 * `readSeq` and `unread`, read once per replica, not per socket), and `read`.
 *
 * A user's notices are handled one after another, so their frames keep the order of the changes
 * (added before updated before removed); a conversation left meanwhile gets no `added` or
 * `updated`, so nothing of it follows `removed`. `added` precedes the conversation's first
 * message: the sockets hold its messages from the notice on (expectAdded) until it went out.
 * Sockets that are not ready yet get no frame: they list the conversations after `ready`.
 */
/** Waits between reads of a conversation whose `joined` notice came before its membership (about 1.5 s in all). */
const ADDED_RETRY_DELAYS_MS = [10, 20, 50, 100, 200, 400, 700];

export function createConversationFrames(deps: ConversationFramesDeps) {
  const chains = new Map<string, Promise<void>>();

  function inOrder(username: string, task: () => Promise<void>): void {
    const next = (chains.get(username) ?? Promise.resolve()).then(task).catch(deps.onReadFailed);
    chains.set(username, next);
    void next.finally(() => {
      if (chains.get(username) === next) chains.delete(username);
    });
  }

  function socketsOf(username: string): ClientConnection[] {
    return [...(deps.connections.socketsOf(username) ?? [])];
  }

  function sendToReady(username: string, frame: string): void {
    for (const client of socketsOf(username)) if (client.isReady) client.send(frame);
  }

  /** The frame for `event`, or undefined when the user is no longer a member. */
  async function conversationFrame(event: 'added' | 'updated', username: string, id: string): Promise<string | undefined> {
    let conversation = await deps.conversations.read(id, username);
    // The `joined` notice is published with the user's side of a membership, BEFORE the
    // conversation's side (conversation-store.ts: on Redis Cluster they live in different slots),
    // so `added` may read a moment too early. Read again, briefly, while the user is still followed:
    // an api that died between the two leaves no membership, and no `added` is right then.
    for (const delayMs of ADDED_RETRY_DELAYS_MS) {
      if (conversation || event !== 'added' || !deps.follows(username, id)) break;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      conversation = await deps.conversations.read(id, username);
    }
    if (!conversation || !deps.follows(username, id)) return undefined;
    const frame: ConversationFrame = { type: 'conversation', event, data: conversation };
    return JSON.stringify(frame);
  }

  return {
    /** At the notice, before the conversation's channel is subscribed. */
    joining(username: string, id: string): void {
      for (const client of socketsOf(username)) client.expectAdded(id);
    },

    /** The conversation's channel is followed: `added`, then its messages. */
    joined(username: string, id: string): void {
      inOrder(username, async () => {
        let frame: string | undefined;
        try {
          frame = await conversationFrame('added', username, id);
        } finally {
          // Even when the read failed: the sockets must not hold the conversation's messages for ever.
          if (deps.follows(username, id)) for (const client of socketsOf(username)) client.added(id, frame);
        }
      });
    },

    updated(username: string, id: string): void {
      inOrder(username, async () => {
        const frame = await conversationFrame('updated', username, id);
        if (frame) sendToReady(username, frame);
      });
    },

    /** The user left or was removed: the sockets drop the conversation at once; `removed` follows what came before it. */
    removed(username: string, id: string): void {
      for (const client of socketsOf(username)) client.dropStream(id);
      const frame: ConversationFrame = { type: 'conversation', event: 'removed', data: { id } };
      inOrder(username, async () => sendToReady(username, JSON.stringify(frame)));
    },

    read(username: string, conversationId: string, seq: number): void {
      const frame: ReadFrame = { type: 'read', conversationId, seq };
      inOrder(username, async () => sendToReady(username, JSON.stringify(frame)));
    },
  };
}

export type ConversationFrames = ReturnType<typeof createConversationFrames>;
