import type { Logger } from '@chat/logger';
import type { SocketSlot, UserSocketSlots } from '@chat/store';
import type { ClientConnection } from './client-connection.js';

/**
 * This replica's leases on its sockets' slots among each user's sockets on every replica. A slot
 * outlives three missed heartbeats, so the slots of a replica that dies lapse soon.
 */
export function createSocketSlotLease(slots: UserSocketSlots, heartbeatIntervalMs: number, logger: Logger) {
  const ttlMs = heartbeatIntervalMs * 3;
  return {
    /** False when the user already holds `limit` sockets. */
    claim: (slot: SocketSlot, limit: number) => slots.claim(slot, limit, ttlMs),
    release(slot: SocketSlot): void {
      slots.release(slot).catch((error: unknown) => logger.debug({ err: error }, 'socket slot not released; it will lapse'));
    },
    /** Extends the lease of every socket still open here (on each heartbeat). */
    refresh(clients: Iterable<ClientConnection>): void {
      slots
        .refresh([...clients].map((client) => ({ username: client.username, socketId: client.socketId })), ttlMs)
        .catch((error: unknown) => logger.warn({ err: error }, 'socket slots not refreshed'));
    },
  };
}

export type SocketSlotLease = ReturnType<typeof createSocketSlotLease>;
