import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfiguredTokens } from '@chat/auth';
import type { Logger } from '@chat/logger';
import { createOpsServer, type Registry } from '@chat/metrics';
import type { Service } from '@chat/runtime';
import { claimKeyLayout, closeRedis, epochHistoryKept, type ConversationStore, type Keys, type MessageStore, type Redis, type UserSocketSlots } from '@chat/store';
import { createSocketAcceptor } from './accept-socket.js';
import type { ClientConnectionDeps } from './client-connection.js';
import { createClientFrameHandler } from './client-frames.js';
import { closeAllSockets } from './close-all-sockets.js';
import { ChannelSubscriptions } from './channel-subscriptions.js';
import { ConnectionRegistry } from './connection-registry.js';
import { ConversationFollowing } from './conversation-following.js';
import { createDeliveryFanout } from './delivery-fanout.js';
import { EpochTracker } from './epoch-tracker.js';
import { createGatewayMetrics } from './gateway-metrics.js';
import { startHeartbeat } from './heartbeat.js';
import { createHistoryReads } from './history-reads.js';
import { startPubsubRecovery } from './pubsub-recovery.js';
import { createSocketSlotLease } from './socket-slot-lease.js';
import { startTokenExpirySweep } from './token-expiry.js';
import { createUpgradeAdmission } from './upgrade-admission.js';

export interface GatewaySettings {
  /** Interface and port the ops routes and /ws listen on (0: any free port). */
  host: string;
  port: number;
  /** How long stop() waits for sockets to close after 1001 before cutting them. */
  closeTimeoutMs: number;
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

export interface GatewayDeps {
  logger: Logger;
  registry: Registry;
  /** Verifies tokens; start() loads its keys (JWKS) and stop() ends their refresh. */
  jwt: ConfiguredTokens;
  keys: Keys;
  conversations: ConversationStore;
  messages: MessageStore;
  socketSlots: UserSocketSlots;
  /** The command connection the stores use; stop() closes it. */
  redis: Redis;
  /** A connection used only for SUBSCRIBE; stop() closes it. */
  subscriber: Redis;
  /** Reads the store epoch (store-epoch.ts); called at start and after every pub/sub outage. */
  observeEpoch: () => Promise<string>;
  isReady: () => Promise<boolean>;
  settings: GatewaySettings;
}

export interface Gateway extends Service {
  /** The HTTP server of /ws and the ops routes (its address once started). */
  server: Server;
  connections: ConnectionRegistry;
}

/**
 * One gateway replica: admits WebSocket upgrades, follows its users' conversations and delivers
 * each message to the sockets of the members it names,
 * recovers after pub/sub outages, pings sockets and closes expired ones. start() listens;
 * stop() refuses new upgrades, closes every socket with 1001 (bounded), then its connections.
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { logger, settings } = deps;
  const connections = new ConnectionRegistry();
  const epoch = new EpochTracker(deps.observeEpoch);
  const slots = createSocketSlotLease(deps.socketSlots, settings.heartbeatIntervalMs, logger);
  // Pub/sub: conversation channels carry deliveries, user channels membership notices.
  const { conversationChannelPrefix, userChannelPrefix } = deps.keys;
  const subscriptions = new ChannelSubscriptions(
    deps.subscriber,
    deps.keys.clustered,
    (channel, payload) => {
      const name = channel.toString('latin1');
      if (name.startsWith(conversationChannelPrefix)) fanOut(payload);
      else if (name.startsWith(userChannelPrefix)) following.onNotice(deps.keys.userOfChannel(name), payload);
    },
    (error) => logger.warn({ err: error }, 'unsubscribe failed'),
  );
  const metrics = createGatewayMetrics(deps.registry, connections, () => subscriptions.count);
  const fanOut = createDeliveryFanout({ connections, metrics, logger });
  const following = new ConversationFollowing({
    subscriptions,
    keys: deps.keys,
    conversations: deps.conversations,
    onJoined: (username, conversationId) => {
      for (const client of connections.socketsOf(username) ?? []) client.joined(conversationId);
    },
    onLeft: (username, conversationId) => {
      for (const client of connections.socketsOf(username) ?? []) client.dropStream(conversationId);
    },
    onMalformedNotice: (username) => {
      metrics.malformedEvents.inc();
      logger.debug({ channelUser: username }, 'skipping malformed membership notice');
    },
  });
  let stopping: Promise<void> | undefined;
  const isStopping = () => stopping !== undefined;

  const history = createHistoryReads(deps.messages);
  const connectionDeps: ClientConnectionDeps = {
    streamDeps: {
      readHistory: history.readHistory,
      gapWaitMs: settings.gapWaitMs,
      onReplayed: (count: number) => metrics.replayed.inc(count),
      onReadFailed: (error: unknown) => {
        metrics.historyReadFailures.inc();
        logger.warn({ err: error }, 'history read failed');
      },
    },
    readRecent: history.readRecent,
    sendBufferLimitBytes: settings.sendBufferLimitBytes,
    resumeWindowMs: settings.resumeWindowMs,
    onSent: () => metrics.framesSent.inc(),
    onClosing: (code) => metrics.closes.inc({ code: String(code) }),
  };

  const acceptSocket = createSocketAcceptor({
    connections,
    following,
    epoch,
    slots,
    connectionDeps,
    onClientFrame: createClientFrameHandler({
      tokens: deps.jwt.tokens,
      conversations: deps.conversations,
      epoch: () => epoch.current,
      historyKept: (clientEpoch, currentEpoch) => epochHistoryKept(deps.redis, deps.keys, clientEpoch, currentEpoch),
      logger,
      onResume: () => metrics.resumes.inc(),
    }),
    metrics,
    logger,
    clientFramesPerSecond: settings.clientFramesPerSecond,
    subscribeTimeoutMs: settings.subscribeTimeoutMs,
  });

  const server = createOpsServer({
    registry: deps.registry,
    isReady: deps.isReady,
    onError: (error) => logger.error({ err: error }, 'ops route failed'),
  });
  server.on(
    'upgrade',
    createUpgradeAdmission({
      tokens: deps.jwt.tokens,
      connections,
      slots,
      acceptSocket,
      metrics,
      logger,
      isStopping,
      maxFrameBytes: settings.maxFrameBytes,
      maxSockets: settings.maxSockets,
      maxSocketsPerUser: settings.maxSocketsPerUser,
    }),
  );

  let sweeps: { stop(): void }[] = [];

  return {
    server,
    connections,
    async start() {
      await deps.jwt.start();
      await claimKeyLayout(deps.redis, deps.keys);
      startPubsubRecovery({ subscriber: deps.subscriber, sharded: deps.keys.clustered, subscriptions, following, connections, epoch, logger, isStopping });
      server.listen(settings.port, settings.host);
      await once(server, 'listening');
      sweeps = [startHeartbeat(connections, slots, settings.heartbeatIntervalMs), startTokenExpirySweep(connections)];
      logger.info({ port: (server.address() as AddressInfo).port, host: settings.host }, 'gateway listening');
    },
    stop() {
      stopping ??= (async () => {
        deps.jwt.stop();
        for (const sweep of sweeps) sweep.stop();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await closeAllSockets(connections, settings.closeTimeoutMs);
        server.closeAllConnections();
        await stopped;
        await Promise.all([closeRedis(deps.redis), closeRedis(deps.subscriber)]);
      })();
      return stopping;
    },
  };
}
