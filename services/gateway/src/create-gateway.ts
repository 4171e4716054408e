import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { TokenService, VerifiedToken } from '@chat/auth';
import { CloseCode, decodeDeliveryEvent, frameOfStored, type Message } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import { createOpsServer, type Registry } from '@chat/metrics';
import type { ConversationStore, HistorySlice, Keys, MessageStore, Redis, SocketSlot, UserSocketSlots } from '@chat/store';
import { ClientConnection, type ClientConnectionDeps } from './client-connection.js';
import { coalesceReads } from './coalesce-reads.js';
import { createClientFrameHandler } from './client-frames.js';
import { ConnectionRegistry } from './connection-registry.js';
import type { HistoryRead } from './conversation-stream.js';
import { createGatewayMetrics } from './gateway-metrics.js';
import { FrameRateLimit } from './frame-rate-limit.js';
import { checkUpgrade, refuseUpgrade } from './upgrade-auth.js';
import { UserChannelSubscriber } from './user-channel-subscriber.js';

export interface GatewaySettings {
  maxFrameBytes: number;
  sendBufferLimitBytes: number;
  heartbeatIntervalMs: number;
  gapWaitMs: number;
  subscribeTimeoutMs: number;
  clientFramesPerSecond: number;
  resumeWindowMs: number;
  /** Sockets this replica holds at most (503 at the upgrade beyond). */
  maxSockets: number;
  /** Sockets one user may hold on all replicas together (429 at the upgrade beyond). */
  maxSocketsPerUser: number;
}

/** A socket that keeps flooding after this many refused frames in a row is closed (1008). */
const FLOOD_CLOSE_AFTER = 50;

export interface GatewayDeps {
  logger: Logger;
  registry: Registry;
  tokens: TokenService;
  keys: Keys;
  conversations: ConversationStore;
  messages: MessageStore;
  /** A connection used only for SUBSCRIBE. */
  subscriber: Redis;
  socketSlots: UserSocketSlots;
  /** Reads the store epoch (store-epoch.ts); called at start and after every pub/sub outage. */
  observeEpoch: () => Promise<string>;
  isReady: () => Promise<boolean>;
  settings: GatewaySettings;
}

export interface Gateway {
  server: Server;
  connections: ConnectionRegistry;
  /** Stops accepting, closes every socket with 1001, waits for them (bounded), idempotent. */
  close(timeoutMs: number): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { logger, settings } = deps;
  const connections = new ConnectionRegistry();
  const metrics = createGatewayMetrics(deps.registry, connections);
  let closing: Promise<void> | undefined;
  /** Upgrades accepted but not registered yet: they count against the replica's socket limit. */
  let upgrading = 0;
  // A socket's slot outlives three missed heartbeats, so a replica that dies frees them soon.
  const slotTtlMs = settings.heartbeatIntervalMs * 3;
  const releaseSlot = (slot: SocketSlot) =>
    deps.socketSlots.release(slot).catch((error: unknown) => logger.debug({ err: error }, 'socket slot not released; it will lapse'));

  function framesOf(slice: HistorySlice): HistoryRead {
    const frames = slice.raw.map((raw) => ({ seq: (JSON.parse(raw) as Message).seq, frame: frameOfStored(raw, slice.title) }));
    return { frames, lastSeq: slice.lastSeq };
  }

  const streamDeps = {
    readHistory: coalesceReads(
      async (conversationId: string, after: number, until: number | undefined, limit: number) =>
        framesOf(await deps.messages.history(conversationId, after, until, limit)),
      (conversationId, after, until, limit) => `${conversationId} ${after} ${until ?? '+'} ${limit}`,
    ),
    gapWaitMs: settings.gapWaitMs,
    onReplayed: (count: number) => metrics.replayed.inc(count),
    onReadFailed: (error: unknown) => {
      metrics.historyReadFailures.inc();
      logger.warn({ err: error }, 'history read failed');
    },
  };

  const subscriber = new UserChannelSubscriber(deps.subscriber, deps.keys, (username, payload) => {
    const sockets = connections.socketsOf(username);
    if (!sockets) return;
    const event = decodeDeliveryEvent(payload);
    if (!event) {
      metrics.malformedEvents.inc();
      logger.debug({ channelUser: username, bytes: payload.length }, 'skipping malformed delivery event');
      return;
    }
    metrics.events.inc();
    for (const client of sockets) client.deliver(event);
    metrics.deliveryLatency.observe(Math.max(0, Date.now() - event.acceptedAtMs) / 1000);
  });

  let epoch: string | undefined;
  async function refreshEpoch(): Promise<{ epoch: string; changed: boolean }> {
    const next = await deps.observeEpoch();
    const changed = epoch !== undefined && next !== epoch;
    epoch = next;
    return { epoch: next, changed };
  }

  const onClientFrame = createClientFrameHandler({
    tokens: deps.tokens,
    conversations: deps.conversations,
    epoch: () => epoch,
    logger,
    onResume: () => metrics.resumes.inc(),
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: settings.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });

  // Shared by every socket: nothing per socket that an idle socket does not need.
  const connectionDeps: ClientConnectionDeps = {
    streamDeps,
    readRecent: async (conversationId, username, beforeSeq, sinceMs) =>
      framesOf(await deps.messages.recentSince(conversationId, username, beforeSeq, sinceMs)),
    sendBufferLimitBytes: settings.sendBufferLimitBytes,
    resumeWindowMs: settings.resumeWindowMs,
    onSent: () => metrics.framesSent.inc(),
    onClosing: (code) => metrics.closes.inc({ code: String(code) }),
  };

  // Socket listeners are shared functions (ws calls them with the socket as `this`), so an idle
  // socket carries no closures of its own.
  const clients = new WeakMap<WebSocket, ClientConnection>();

  function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    const client = clients.get(this);
    if (!client) return;
    client.awaitingPong = false;
    const rateLimit = (client.rateLimit ??= new FrameRateLimit(settings.clientFramesPerSecond, settings.clientFramesPerSecond * 2));
    if (rateLimit.take()) {
      onClientFrame(client, data, isBinary);
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
    releaseSlot({ username: client.username, socketId: client.socketId });
    if (connections.remove(client)) {
      subscriber.unsubscribe(client.username).catch((error: unknown) => logger.warn({ err: error }, 'unsubscribe failed'));
    }
  }

  async function register(socket: WebSocket, transport: Duplex, token: VerifiedToken, socketId: string): Promise<void> {
    const client = new ClientConnection(socket, transport, token.username, socketId, token.expiresAtMs, connectionDeps);
    clients.set(socket, client);
    metrics.connections.inc();
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);

    connections.add(client);
    let currentEpoch: string;
    try {
      await withTimeout(subscriber.subscribe(client.username), settings.subscribeTimeoutMs, 'subscribe');
      currentEpoch = epoch ?? (await withTimeout(refreshEpoch(), settings.subscribeTimeoutMs, 'epoch')).epoch;
    } catch (error) {
      logger.warn({ err: error, user: client.username }, 'could not subscribe; refusing the socket');
      client.close(CloseCode.TryAgainLater, 'try again later');
      return;
    }
    if (client.isOpen) client.ready(currentEpoch);
  }

  const server = createOpsServer({
    registry: deps.registry,
    isReady: deps.isReady,
    onError: (error) => logger.error({ err: error }, 'ops route failed'),
  });

  // Defined out here: a listener created inside the upgrade handler would keep that handler's
  // whole scope (the request and its headers) alive for as long as the socket lives.
  const onRawSocketError = (error: Error) => logger.debug({ err: { message: error.message } }, 'upgrade socket error');

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', onRawSocketError);
    if (closing) {
      metrics.refusedUpgrades.inc({ status: '503' });
      refuseUpgrade(socket, 503, { error: { code: 'unavailable', message: 'this gateway is shutting down' } });
      return;
    }
    const check = checkUpgrade(req, deps.tokens);
    if (!check.ok) {
      metrics.refusedUpgrades.inc({ status: String(check.status) });
      refuseUpgrade(socket, check.status, check.body);
      return;
    }
    if (connections.size + upgrading >= settings.maxSockets) {
      metrics.refusedUpgrades.inc({ status: '503' });
      refuseUpgrade(socket, 503, { error: { code: 'unavailable', message: 'this gateway is full; try another' } });
      return;
    }
    const slot = { username: check.token.username, socketId: randomBytes(9).toString('base64url') };
    upgrading += 1;
    deps.socketSlots
      .claim(slot, settings.maxSocketsPerUser, slotTtlMs)
      .then(
        (claimed) => {
          if (!claimed) {
            metrics.refusedUpgrades.inc({ status: '429' });
            refuseUpgrade(
              socket,
              429,
              { error: { code: 'rate_limited', message: `at most ${settings.maxSocketsPerUser} sockets per user` } },
              { 'Retry-After': '5' },
            );
            return;
          }
          if (socket.destroyed) {
            releaseSlot(slot);
            return;
          }
          wss.handleUpgrade(req, socket, head, (ws) => {
            register(ws, socket, check.token, slot.socketId).catch((error: unknown) => {
              logger.error({ err: error }, 'socket registration failed');
              ws.terminate();
            });
          });
        },
        (error: unknown) => {
          logger.warn({ err: error }, 'socket slot not claimed; refusing the upgrade');
          metrics.refusedUpgrades.inc({ status: '503' });
          refuseUpgrade(socket, 503, { error: { code: 'unavailable', message: 'try again shortly' } });
        },
      )
      .finally(() => {
        upgrading -= 1;
      });
  });

  // After a pub/sub outage: what was published meanwhile never reached this replica. If the store
  // kept its history, every socket reads what it missed from the store; if history may have gone
  // backwards (new epoch), cursors mean nothing any more and every socket is sent away to resume.
  let lostAt: number | undefined;
  let recovering: Promise<void> | undefined;
  const RECOVERY_BATCH = 50;

  async function catchUpEveryone(): Promise<void> {
    const users = [...new Set([...connections.all()].map((client) => client.username))];
    for (let i = 0; i < users.length; i += RECOVERY_BATCH) {
      await Promise.all(
        users.slice(i, i + RECOVERY_BATCH).map(async (username) => {
          const ids = await deps.conversations.idsOf(username);
          await Promise.all([...(connections.socketsOf(username) ?? [])].map((client) => client.catchUp(ids)));
        }),
      );
    }
  }

  async function recover(): Promise<void> {
    while (!closing) {
      try {
        const outage = lostAt;
        lostAt = undefined;
        const { changed, epoch: current } = await refreshEpoch();
        if (changed) {
          logger.warn({ epoch: current }, 'store history changed (new epoch); closing sockets so clients resume');
          for (const client of connections.all()) client.close(CloseCode.TryAgainLater, 'store restarted; resume');
          return;
        }
        await subscriber.resubscribeAll();
        await catchUpEveryone();
        logger.info({ outageMs: outage === undefined ? undefined : Date.now() - outage, sockets: connections.size }, 'caught up after pub/sub outage');
        return;
      } catch (error) {
        logger.warn({ err: error }, 'recovery after pub/sub outage failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  deps.subscriber.on('close', () => {
    if (!closing && epoch !== undefined) lostAt ??= Date.now();
  });
  function startRecovery(): void {
    if (lostAt === undefined || recovering || closing) return;
    recovering = recover().finally(() => {
      recovering = undefined;
      // Lost again while recovering: go round once more.
      if (deps.subscriber.status === 'ready') startRecovery();
    });
  }
  deps.subscriber.on('ready', startRecovery);

  // Protocol-level heartbeat: a socket that did not answer the previous ping is dead.
  const heartbeat = setInterval(() => {
    deps.socketSlots
      .refresh([...connections.all()].map((client) => ({ username: client.username, socketId: client.socketId })), slotTtlMs)
      .catch((error: unknown) => logger.warn({ err: error }, 'socket slots not refreshed'));
    for (const client of connections.all()) {
      if (client.awaitingPong) {
        client.socket.terminate();
        continue;
      }
      client.awaitingPong = true;
      client.socket.ping();
    }
  }, settings.heartbeatIntervalMs);
  heartbeat.unref();

  // Token expiry, checked for every socket once a second (one timer, not one per socket).
  const expirySweep = setInterval(() => {
    const now = Date.now();
    for (const client of connections.all()) {
      if (client.expiresAtMs <= now) client.close(CloseCode.TokenExpired, 'token expired');
    }
  }, 1000);
  expirySweep.unref();

  return {
    server,
    connections,
    close(timeoutMs) {
      closing ??= (async () => {
        clearInterval(heartbeat);
        clearInterval(expirySweep);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const sockets = [...connections.all()];
        const allClosed = Promise.all(
          sockets.map(
            (client) =>
              new Promise<void>((resolve) => {
                if (client.socket.readyState === client.socket.CLOSED) resolve();
                else client.socket.once('close', () => resolve());
              }),
          ),
        );
        for (const client of sockets) client.close(CloseCode.GoingAway, 'server shutting down; reconnect');
        await withTimeout(allClosed, timeoutMs, 'closing sockets').catch(() => {
          for (const client of connections.all()) client.socket.terminate();
        });
        server.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}
