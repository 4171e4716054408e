import type { TypingClientFrame } from '@chat/contracts';
import type { TypingStore } from '@chat/store';
import type { ClientConnection } from './client-connection.js';
import type { PresenceMetrics } from './presence-metrics.js';

/**
 * A client's `typing` frame: relayed to the other members' sockets, at most once per 2 s per user
 * and conversation across every replica (throttled frames are dropped silently); a non-member gets
 * `not_found`, as for a conversation that does not exist.
 */
export function createTypingRelay(typing: TypingStore, metrics: PresenceMetrics) {
  return async function relayTyping(client: ClientConnection, frame: TypingClientFrame): Promise<void> {
    const outcome = await typing.relay({ type: 'typing', conversationId: frame.conversationId, user: client.username });
    metrics.typing.inc({ outcome });
    if (outcome === 'not_member') client.sendError('not_found', 'no such conversation');
  };
}

export type RelayTyping = ReturnType<typeof createTypingRelay>;
