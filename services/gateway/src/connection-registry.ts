import type { ClientConnection } from './client-connection.js';

/**
 * The sockets this replica holds, by user. Reports when a user's first socket arrives and their
 * last one leaves, which is when this replica starts or stops following that user's channels.
 */
export class ConnectionRegistry {
  private readonly byUser = new Map<string, Set<ClientConnection>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get users(): number {
    return this.byUser.size;
  }

  /** Returns true when this is the user's first socket here. */
  add(connection: ClientConnection): boolean {
    let sockets = this.byUser.get(connection.username);
    const first = sockets === undefined;
    if (!sockets) {
      sockets = new Set();
      this.byUser.set(connection.username, sockets);
    }
    if (!sockets.has(connection)) {
      sockets.add(connection);
      this.count += 1;
    }
    return first;
  }

  /** Returns true when that was the user's last socket here. */
  remove(connection: ClientConnection): boolean {
    const sockets = this.byUser.get(connection.username);
    if (!sockets?.delete(connection)) return false;
    this.count -= 1;
    if (sockets.size > 0) return false;
    this.byUser.delete(connection.username);
    return true;
  }

  socketsOf(username: string): ReadonlySet<ClientConnection> | undefined {
    return this.byUser.get(username);
  }

  *all(): IterableIterator<ClientConnection> {
    for (const sockets of this.byUser.values()) yield* sockets;
  }
}
