import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { TokenService } from '@chat/auth';
import type { ErrorCode } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { AcceptSocket } from './accept-socket.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { SocketSlotLease } from './socket-slot-lease.js';
import { checkUpgrade, refuseUpgrade } from './upgrade-auth.js';

export interface UpgradeAdmissionDeps {
  tokens: TokenService;
  connections: ConnectionRegistry;
  slots: SocketSlotLease;
  acceptSocket: AcceptSocket;
  metrics: GatewayMetrics;
  logger: Logger;
  /** True once the gateway stops: upgrades get 503 from then on. */
  isStopping: () => boolean;
  maxFrameBytes: number;
  /** Sockets this replica holds at most (503 beyond). */
  maxSockets: number;
  /** Sockets one user may hold on all replicas together (429 beyond). */
  maxSocketsPerUser: number;
}

/**
 * Decides each upgrade request, in order: refused while stopping (503), by path and token
 * (upgrade-auth.ts), when this replica is full (503), when the user holds too many sockets on all
 * replicas (429, Retry-After); otherwise the socket is opened and handed to `acceptSocket`.
 */
export function createUpgradeAdmission(deps: UpgradeAdmissionDeps) {
  const { logger, metrics } = deps;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: deps.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });
  /** Upgrades accepted but not registered yet: they count against the replica's socket limit. */
  let upgrading = 0;

  // Defined out here: a listener created inside the upgrade handler would keep that handler's
  // whole scope (the request and its headers) alive for as long as the socket lives.
  const onRawSocketError = (error: Error) => logger.debug({ err: { message: error.message } }, 'upgrade socket error');

  function refuse(socket: Duplex, status: number, code: ErrorCode, message: string, headers?: Record<string, string>): void {
    metrics.refusedUpgrades.inc({ status: String(status) });
    refuseUpgrade(socket, status, { error: { code, message } }, headers);
  }

  return function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', onRawSocketError);
    if (deps.isStopping()) {
      refuse(socket, 503, 'unavailable', 'this gateway is shutting down');
      return;
    }
    const check = checkUpgrade(req, deps.tokens);
    if (!check.ok) {
      metrics.refusedUpgrades.inc({ status: String(check.status) });
      refuseUpgrade(socket, check.status, check.body);
      return;
    }
    if (deps.connections.size + upgrading >= deps.maxSockets) {
      refuse(socket, 503, 'unavailable', 'this gateway is full; try another');
      return;
    }
    const slot = { username: check.token.username, socketId: randomBytes(9).toString('base64url') };
    upgrading += 1;
    deps.slots
      .claim(slot, deps.maxSocketsPerUser)
      .then(
        (claimed) => {
          if (!claimed) {
            refuse(socket, 429, 'rate_limited', `at most ${deps.maxSocketsPerUser} sockets per user`, { 'Retry-After': '5' });
            return;
          }
          if (socket.destroyed) {
            deps.slots.release(slot);
            return;
          }
          wss.handleUpgrade(req, socket, head, (ws) => {
            deps.acceptSocket(ws, socket, check.token, slot.socketId).catch((error: unknown) => {
              logger.error({ err: error }, 'socket registration failed');
              ws.terminate();
            });
          });
        },
        (error: unknown) => {
          logger.warn({ err: error }, 'socket slot not claimed; refusing the upgrade');
          refuse(socket, 503, 'unavailable', 'try again shortly');
        },
      )
      .finally(() => {
        upgrading -= 1;
      });
  };
}
