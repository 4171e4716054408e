import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfiguredTokens } from '@chat/auth';
import { isTypingEvent } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import { createOpsServer, type Registry } from '@chat/metrics';
import type { Service } from '@chat/runtime';
import {
  claimKeyLayout,
  closeRedis,
  epochHistoryKept,
  type ConversationStore,
  type Keys,
  type MessageStore,
  type PresenceStore,
  type Redis,
  type TypingStore,
  type UserSocketSlots,
} from '@chat/store';
import { createSocketAcceptor } from './accept-socket.js';
import type { ClientConnectionDeps } from './client-connection.js';
import { createClientFrameHandler } from './client-frames.js';
import { closeAllSockets } from './close-all-sockets.js';
import { ChannelSubscriptions } from './channel-subscriptions.js';
import { ConnectionRegistry } from './connection-registry.js';
import { ConversationFollowing } from './conversation-following.js';
import { createConversationFrames } from './conversation-frames.js';
import { createDeliveryFanout } from './delivery-fanout.js';
import { createEphemeralFanout } from './ephemeral-fanout.js';
import { EpochTracker } from './epoch-tracker.js';
import { createGatewayMetrics } from './gateway-metrics.js';
import { startHeartbeat } from './heartbeat.js';
import { createHistoryReads } from './history-reads.js';
import { createPresenceMetrics } from './presence-metrics.js';
import { createPresenceTracker } from './presence-tracker.js';
import { startPubsubRecovery } from './pubsub-recovery.js';
import { createSocketSlotLease } from './socket-slot-lease.js';
import { createTypingRelay } from './typing-relay.js';
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
  /** How long a socket slot's lease lives unless renewed (every third of it): bounds how long a dead replica's users stay online. */
  presenceTtlMs: number;
  /** How long after a user's last socket anywhere closes they are announced offline. */
  presenceGraceMs: number;
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
  presence: PresenceStore;
  typing: TypingStore;
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
  const presenceMetrics = createPresenceMetrics(deps.registry);
  const presence = createPresenceTracker({ presence: deps.presence, graceMs: settings.presenceGraceMs, metrics: presenceMetrics, logger });
  const slots = createSocketSlotLease(deps.socketSlots, settings.presenceTtlMs, presence, logger);
  // Pub/sub: conversation channels carry deliveries (and typing), user channels membership notices
  // (and presence frames for the user's sockets).
  const { conversationChannelPrefix, userChannelPrefix } = deps.keys;
  const subscriptions = new ChannelSubscriptions(
    deps.subscriber,
    deps.keys.clustered,
    (channel, payload) => {
      const name = channel.toString('latin1');
      if (name.startsWith(conversationChannelPrefix)) {
        if (isTypingEvent(payload)) ephemeral.onTypingEvent(payload);
        else fanOut(payload);
      } else if (name.startsWith(userChannelPrefix)) {
        const username = deps.keys.userOfChannel(name);
        if (!ephemeral.onUserPayload(username, payload)) following.onNotice(username, payload);
      }
    },
    (error) => logger.warn({ err: error }, 'unsubscribe failed'),
  );
  const metrics = createGatewayMetrics(deps.registry, connections, () => subscriptions.count);
  const fanOut = createDeliveryFanout({ connections, metrics, logger });
  const ephemeral = createEphemeralFanout({ connections, metrics, presenceMetrics, logger });
  const following = new ConversationFollowing({
    subscriptions,
    keys: deps.keys,
    conversations: deps.conversations,
    onJoining: (username, conversationId) => conversationFrames.joining(username, conversationId),
    onJoined: (username, conversationId) => conversationFrames.joined(username, conversationId),
    onLeft: (username, conversationId) => conversationFrames.removed(username, conversationId),
    onUpdated: (username, conversationId) => conversationFrames.updated(username, conversationId),
    onRead: (username, conversationId, seq) => conversationFrames.read(username, conversationId, seq),
    onMalformedNotice: (username) => {
      metrics.malformedEvents.inc();
      logger.debug({ channelUser: username }, 'skipping malformed membership notice');
    },
  });
  const conversationFrames = createConversationFrames({
    connections,
    conversations: deps.conversations,
    follows: (username, conversationId) => following.follows(username, conversationId),
    onReadFailed: (error) => {
      metrics.historyReadFailures.inc();
      logger.warn({ err: error }, 'reading a conversation for its frame failed');
    },
  });
  let stopping: Promise<void> | undefined;
  const isStopping = () => stopping !== undefined;

  const history = createHistoryReads(deps.messages);
  const connectionDeps: ClientConnectionDeps = {
    streamDeps: {
      readHistory: history.readHistory,
      readChanges: history.readChanges,
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
      relayTyping: createTypingRelay(deps.typing, presenceMetrics),
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
      sweeps = [startHeartbeat(connections, settings.heartbeatIntervalMs), slots.startRenewing(connections), startTokenExpirySweep(connections)];
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
        await slots.released();
        await presence.flush();
        await Promise.all([closeRedis(deps.redis), closeRedis(deps.subscriber)]);
      })();
      return stopping;
    },
  };
}
