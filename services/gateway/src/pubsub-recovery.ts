import { CloseCode } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import type { Redis } from '@chat/store';
import { Cluster } from 'ioredis';
import type { ChannelSubscriptions } from './channel-subscriptions.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { EpochTracker } from './epoch-tracker.js';
import type { ConversationFollowing } from './conversation-following.js';

export interface PubsubRecoveryDeps {
  /** The SUBSCRIBE connection, watched for going away and coming back. */
  subscriber: Redis;
  /** Redis Cluster: shard channels, one subscriber connection per shard. */
  sharded: boolean;
  subscriptions: ChannelSubscriptions;
  following: ConversationFollowing;
  connections: ConnectionRegistry;
  epoch: EpochTracker;
  logger: Logger;
  /** Recovery gives up once the gateway stops. */
  isStopping: () => boolean;
}

/** Users whose conversations are read from the store at once while catching up. */
const RECOVERY_BATCH = 50;
const RETRY_AFTER_MS = 1000;
/** After a shard dropped our channels: when to read the slot map again (ms from then). */
const SLOT_MAP_REFRESH_DELAYS_MS = [0, 250, 1000];

/**
 * After a pub/sub outage: what was published meanwhile never reached this replica. If the store
 * kept its history, every socket reads what it missed from the store; if history may have gone
 * backwards (new epoch), cursors mean nothing any more and every socket is sent away to resume.
 */
export function startPubsubRecovery(deps: PubsubRecoveryDeps): void {
  const { connections, logger } = deps;
  let lostAt: number | undefined;
  let recovering: Promise<void> | undefined;

  async function catchUpEveryone(): Promise<void> {
    const users = [...new Set([...connections.all()].map((client) => client.username))];
    for (let i = 0; i < users.length; i += RECOVERY_BATCH) {
      await Promise.all(
        users.slice(i, i + RECOVERY_BATCH).map(async (username) => {
          // Membership notices may have been missed too: follow what the store says now.
          const ids = await deps.following.refresh(username);
          await Promise.all([...(connections.socketsOf(username) ?? [])].map((client) => client.catchUp(ids)));
        }),
      );
    }
  }

  async function recover(): Promise<void> {
    while (!deps.isStopping()) {
      try {
        const outage = lostAt;
        lostAt = undefined;
        const { changed, epoch } = await deps.epoch.refresh();
        if (changed) {
          logger.warn({ epoch }, 'store history changed (new epoch); closing sockets so clients resume');
          for (const client of connections.all()) client.close(CloseCode.TryAgainLater, 'store restarted; resume');
          return;
        }
        // On a cluster ioredis has subscribed every channel again by 'subscribersReady'; an SSUBSCRIBE
        // of ours sent while its slot map is stale can wait for ever (seen after a slot moved).
        if (!deps.sharded) await deps.subscriptions.resubscribeAll();
        await catchUpEveryone();
        logger.info({ outageMs: outage === undefined ? undefined : Date.now() - outage, sockets: connections.size }, 'caught up after pub/sub outage');
        return;
      } catch (error) {
        logger.warn({ err: error }, 'recovery after pub/sub outage failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS));
      }
    }
  }

  function startRecovery(): void {
    if (lostAt === undefined || recovering || deps.isStopping()) return;
    recovering = recover().finally(() => {
      recovering = undefined;
      // Lost again while recovering: go round once more.
      if (deps.sharded || deps.subscriber.status === 'ready') startRecovery();
    });
  }

  // Before the first socket read the epoch, nothing was served that could have been missed.
  const lost = () => {
    if (!deps.isStopping() && deps.epoch.current !== undefined) lostAt ??= Date.now();
  };
  if (deps.sharded) {
    // On a cluster ioredis keeps a subscriber connection per shard: one that ends (a failed master)
    // is replaced once the slot map shows who serves its slots now, and 'subscribersReady' says
    // the channels are subscribed there again.
    deps.subscriber.on('-node', lost);
    deps.subscriber.on('-subscriber', lost);
    deps.subscriber.on('subscribersReady', startRecovery);
    // A node that gives a slot away (resharding) unsubscribes that slot's shard channels itself.
    // ioredis does not subscribe them again: it only reports the reply nobody asked for.
    // A refresh of the slot map makes it subscribe them where the slot is now (and say
    // 'subscribersReady'); the nodes may take a moment to agree on the new owner, so it is asked
    // again a little later (and the subscriber refreshes on its own every few seconds anyway).
    deps.subscriber.on('nodeError', (error: Error) => {
      if (!/sunsubscribe/i.test(error.message) || !(deps.subscriber instanceof Cluster)) return;
      logger.info({ err: { message: error.message } }, 'a shard dropped our channels (slot moved); subscribing where it went');
      lost();
      const cluster = deps.subscriber;
      for (const delayMs of SLOT_MAP_REFRESH_DELAYS_MS) setTimeout(() => cluster.refreshSlotsCache(), delayMs).unref();
    });
  } else {
    deps.subscriber.on('close', lost);
    deps.subscriber.on('ready', startRecovery);
  }
}
