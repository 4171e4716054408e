import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { VerifiedToken } from '@chat/auth';
import { CloseCode } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import { ClientConnection, type ClientConnectionDeps } from './client-connection.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { ConversationFollowing } from './conversation-following.js';
import type { EpochTracker } from './epoch-tracker.js';
import { FrameRateLimit } from './frame-rate-limit.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { SocketSlotLease } from './socket-slot-lease.js';
import { withTimeout } from './with-timeout.js';

/** A socket that keeps flooding after this many refused frames in a row is closed (1008). */
const FLOOD_CLOSE_AFTER = 50;

export interface AcceptSocketDeps {
  connections: ConnectionRegistry;
  following: ConversationFollowing;
  epoch: EpochTracker;
  slots: SocketSlotLease;
  /** Shared by every socket: nothing per socket that an idle socket does not need. */
  connectionDeps: ClientConnectionDeps;
  onClientFrame: (client: ClientConnection, data: RawData, isBinary: boolean) => void;
  metrics: GatewayMetrics;
  logger: Logger;
  clientFramesPerSecond: number;
  subscribeTimeoutMs: number;
}

/**
 * A socket's life on this replica once its upgrade was admitted: registered, its user's channels
 * followed (their own and their conversations'), sent `ready`; its frames rate-limited; on close,
 * unregistered, its slot released and, with the user's last socket here, the channels left.
 */
export function createSocketAcceptor(deps: AcceptSocketDeps) {
  const { connections, logger, metrics } = deps;

  // Socket listeners are shared functions (ws calls them with the socket as `this`), so an idle
  // socket carries no closures of its own.
  const clients = new WeakMap<WebSocket, ClientConnection>();

  function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    const client = clients.get(this);
    if (!client) return;
    client.awaitingPong = false;
    const rateLimit = (client.rateLimit ??= new FrameRateLimit(deps.clientFramesPerSecond, deps.clientFramesPerSecond * 2));
    if (rateLimit.take()) {
      deps.onClientFrame(client, data, isBinary);
    } else if (rateLimit.refusedInARow >= FLOOD_CLOSE_AFTER) {
      client.close(CloseCode.PolicyViolation, 'too many frames');
    } else if (rateLimit.refusedInARow === 1) {
      client.sendError('rate_limited', 'too many frames; slow down');
    }
  }

  function onSocketPong(this: WebSocket): void {
    const client = clients.get(this);
    if (client) client.awaitingPong = false;
  }

  function onSocketError(this: WebSocket, error: Error): void {
    logger.debug({ err: { message: error.message }, user: clients.get(this)?.username }, 'socket error');
  }

  function onSocketClose(this: WebSocket, code: number): void {
    const client = clients.get(this);
    if (!client) return;
    clients.delete(this);
    // Closes this side started were counted when it started them.
    if (client.closedWith === undefined) metrics.closes.inc({ code: String(code) });
    client.dispose();
    deps.slots.release({ username: client.username, socketId: client.socketId });
    if (connections.remove(client)) deps.following.unfollow(client.username);
  }

  return async function acceptSocket(socket: WebSocket, transport: Duplex, token: VerifiedToken, socketId: string): Promise<void> {
    const client = new ClientConnection(socket, transport, token.username, socketId, token.expiresAtMs, deps.connectionDeps);
    clients.set(socket, client);
    metrics.connections.inc();
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);

    connections.add(client);
    let currentEpoch: string;
    try {
      await withTimeout(deps.following.follow(client.username), deps.subscribeTimeoutMs, 'subscribe');
      currentEpoch = deps.epoch.current ?? (await withTimeout(deps.epoch.refresh(), deps.subscribeTimeoutMs, 'epoch')).epoch;
    } catch (error) {
      logger.warn({ err: error, user: client.username }, 'could not subscribe; refusing the socket');
      client.close(CloseCode.TryAgainLater, 'try again later');
      return;
    }
    if (client.isOpen) client.ready(currentEpoch);
  };
}

export type AcceptSocket = ReturnType<typeof createSocketAcceptor>;
