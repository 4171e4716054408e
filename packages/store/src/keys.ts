import keySlot from 'cluster-key-slot';
import { deliveryPartition } from '@chat/contracts';

/**
 * Every Redis key and channel this system uses, in one place. All carry the configurable prefix so
 * several stacks, or tests, can share one Redis. Usernames and ids are validated before they reach
 * here (contracts/identifiers), so they can never smuggle a separator, a glob or a hash tag.
 *
 * Two layouts, chosen by createKeys:
 * - One Redis: the key strings of every release so far, unchanged, so existing data stays readable.
 * - Redis Cluster: the same strings plus a hash tag (`{…}`, the only part Redis hashes to pick the
 *   slot), so that what one script, MULTI or multi-key command touches lives in one slot:
 *   - a CONVERSATION's keys (hash, members, messages, delivery header, and any per-conversation key
 *     added later) and its channel carry the tag of its DELIVERY PARTITION (partitionTag), and so
 *     do that partition's outbox, wake flag, drain queue and epoch: the drain script reads a
 *     partition's outbox, its conversations' delivery headers (else members and titles), writes
 *     the headers it missed, and SPUBLISHes on their channels in one slot;
 *   - a USER's keys (record, conversation index, socket slots, rate counters) and their channel
 *     carry the tag `{<username>}`;
 *   - login-failure counters carry the client address (both layouts).
 *   Adding a key: build a per-conversation key from conversation(id) (e.g. `${conversation(id)}:reads`)
 *   and a per-user key from user(username): it then inherits the right tag in both layouts. Never
 *   let one script/MULTI touch a user's keys and a conversation's keys together: do it in two
 *   steps (conversation-store.ts says in which order). Publish through publishCommand.
 * On a cluster the partition count is part of the layout (conversations' slots depend on it): it is
 * recorded in Redis at first start (key-layout.ts).
 */
export interface Keys {
  readonly prefix: string;
  /** True on Redis Cluster: hash-tagged keys, sharded pub/sub, a drain queue per partition. */
  readonly clustered: boolean;
  /** The delivery partitions conversations are spread over (DELIVERY_PARTITIONS). */
  readonly partitions: number;
  /** The partition of a conversation (@chat/contracts deliveryPartition over `partitions`). */
  partitionOf(conversationId: string): number;
  /** 'SPUBLISH' on a cluster (delivered by the channel's shard only), 'PUBLISH' on one Redis: for scripts and the stores. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  /** String: the user record as JSON. */
  user(username: string): string;
  /** Sorted set: the user's conversation ids, scored by conversation creation time. */
  userConversations(username: string): string;
  /** Hash: id, title, createdAt, createdBy, seq (last seq handed out), lastMessageAt (the newest message's createdAt). */
  conversation(id: string): string;
  /** Hash of one conversation's read cursors: username → the seq they have read up to. */
  reads(id: string): string;
  /**
   * String with a TTL of CLIENT_ID_TTL_MS: `<seq> <text fingerprint>` of the message `author` posted
   * in the conversation with `clientId` (append-message.lua). One key per message so each expires
   * on its own, nothing scanned; built from the conversation's key so it lives in its hash slot.
   */
  clientId(id: string, author: string, clientId: string): string;
  /** Sorted set: member usernames, scored by the conversation's seq when they joined. */
  members(id: string): string;
  /** Sorted set: message JSON scored by seq. */
  messages(id: string): string;
  /**
   * Sorted set: the conversation's rev index, member the seq of each message, score the rev of its
   * latest change (creation, edit, deletion), trimmed with the messages (lua/includes/rev-index.lua).
   */
  revs(id: string): string;
  /** String with a TTL: left when the conversation is deleted, so a drain tells deleted from moving. */
  conversationTombstone(id: string): string;
  /**
   * String, no TTL: the conversation's delivery header, a cache of what the drain script names in
   * each event, `<title as cjson encodes it>\n<members joined by the delivery memberSeparator>`
   * (neither part can hold a newline: cjson escapes it, usernames are identifiers). Written only
   * by drain-outbox-2.lua, on a miss, from the hash's title and the members it read; DELETED in the
   * same atomic step as every change of the conversation's title or members and its deletion
   * (conversation-store.ts create, update-conversation-3.lua, leave-conversation-7.lua), so it
   * never names a member whose removal was acknowledged. Absent (data of earlier releases, or
   * after a change): the drain reads the hash and members as before and writes it again.
   */
  deliveryHeader(id: string): string;
  /** Sorted set: one delivery partition's deliveries accepted but not yet published, scored by acceptance time. */
  outbox(partition: number): string;
  /** String with a TTL: set while a drain job of the partition is pending (append scripts, drain script). */
  wake(partition: number): string;
  /** The single outbox of releases before partitions: only legacy per-message jobs read it. */
  legacyOutbox(): string;
  /**
   * What the keys and channel of the partition's conversations are made of, for the drain script,
   * which builds them for the conversations it finds in the outbox: conversation = prefix + id,
   * members/messages/tombstone/delivery header = that + suffix, channel = channelPrefix + id.
   */
  conversationKeyParts(partition: number): {
    prefix: string;
    membersSuffix: string;
    messagesSuffix: string;
    tombstoneSuffix: string;
    deliveryHeaderSuffix: string;
    channelPrefix: string;
  };
  /**
   * Hash: the store epoch's id and the Redis run_id it was last seen with (store-epoch.ts): one for
   * the store on one Redis (whatever the partition), one per partition, in its slot, on a cluster.
   */
  epoch(partition: number): string;
  /** Hash: on a cluster, the id clients get for a set of partition epochs → those epochs. */
  epochIndex(): string;
  /** String: the key layout this data was written with (key-layout.ts). */
  layout(): string;
  /** String counter of one rate-limit window (rate-limiter.ts); a user's carries their tag. */
  rateCounter(scope: string, subject: string): string;
  /**
   * String counter of failed logins from one client address, or of those for one username from it
   * (login-failure-guard.ts). Both carry the address as their hash tag, so one script can count
   * them together; the address is validated (rate-limiter.ts) before it reaches here.
   */
  loginFailures(address: string, username?: string): string;
  /** Sorted set: one user's open sockets on every gateway, scored by when they expire. */
  userSockets(username: string): string;
  /**
   * Hash: the user's presence as gateways last settled it: online (1/0), lastSeen (ms), ttl (ms of
   * their socket leases). One of the user's keys, like userSockets(): the slot scripts take both.
   */
  userPresence(username: string): string;
  /**
   * Sorted set: every user whose presence may still be online, scored by when their last socket
   * lease runs out; the presence sweep settles those whose score passed (a replica that died).
   */
  presenceExpiries(): string;
  /**
   * String with a TTL: set while one user's `typing` in one conversation is throttled. One of the
   * conversation's keys (conversation(id) + suffix): relay-typing-2.lua takes it with members(id).
   */
  typingThrottle(conversationId: string, username: string): string;
  /** List: offline webhooks that failed for good, newest first (bounded). */
  webhookDeadLetters(): string;
  /** Pub/sub channel of one user: notices that they joined or left a conversation, and frames for their sockets (presence). */
  userChannel(username: string): string;
  /** Every user channel starts with this: a subscriber tells them from conversation channels by it. */
  readonly userChannelPrefix: string;
  /** The username of a user channel. */
  userOfChannel(channel: string): string;
  /** Pub/sub channel of one conversation: one delivery event per message, naming the members owed it. */
  conversationChannel(id: string): string;
  /** Every conversation channel starts with this. */
  readonly conversationChannelPrefix: string;
  /** Prefix BullMQ puts in front of the keys of the queue that drains `partition` (one queue for all on one Redis). */
  queuePrefix(partition: number): string;
  /** Every distinct queue prefix: the queues a worker consumes. */
  queuePrefixes(): string[];
  /** Prefix of the offline webhooks' BullMQ queue (its own slot on a cluster). */
  readonly webhookQueuePrefix: string;
}

/** Redis Cluster's hash slots. */
export const CLUSTER_SLOTS = 16_384;

/** The slot Redis Cluster puts `key` in (CRC16/XMODEM of its hash tag, or of the key, mod 16384). */
export function clusterSlot(key: string): number {
  return keySlot(key);
}

/**
 * The hash tag of delivery partition `partition` of `partitions`: the first `p<partition>-<n>`
 * whose slot lies in the partition's even share of the slots, [partition, partition + 1) ×
 * 16384 / partitions. `redis-cli --cluster create` gives each master an even contiguous range,
 * so with partitions a multiple of the masters each master serves as many partitions.
 */
export function partitionTag(partition: number, partitions: number): string {
  const low = Math.floor((partition * CLUSTER_SLOTS) / partitions);
  const high = Math.floor(((partition + 1) * CLUSTER_SLOTS) / partitions);
  for (let n = 0; ; n += 1) {
    const tag = `p${partition}-${n}`;
    const slot = clusterSlot(tag);
    if (slot >= low && slot < high) return tag;
  }
}

export interface KeyLayout {
  /** Redis Cluster (hash tags) rather than one Redis. */
  clustered: boolean;
  /** DELIVERY_PARTITIONS. */
  partitions: number;
}

const ONE_REDIS: KeyLayout = { clustered: false, partitions: 1 };

export function createKeys(prefix: string, layout: KeyLayout = ONE_REDIS): Keys {
  const { clustered, partitions } = layout;
  const userChannelPrefix = `${prefix}:u:`;
  const conversationChannelPrefix = `${prefix}:c:`;
  const tags = clustered ? Array.from({ length: partitions }, (_, partition) => `{${partitionTag(partition, partitions)}}`) : [];
  /** The partition's tag on a cluster; nothing on one Redis. */
  const partitionPart = (partition: number) => (clustered ? (tags[partition] ?? `{${partitionTag(partition, partitions)}}`) : '');
  const userPart = (username: string) => (clustered ? `{${username}}` : username);
  const partitionOf = (id: string) => deliveryPartition(id, partitions);
  const conversationKeyParts = (partition: number) => ({
    prefix: `${prefix}:conv:${partitionPart(partition)}`,
    membersSuffix: ':members',
    messagesSuffix: ':messages',
    tombstoneSuffix: ':gone',
    deliveryHeaderSuffix: ':delivery',
    channelPrefix: `${conversationChannelPrefix}${partitionPart(partition)}`,
  });
  const conversation = (id: string) => `${conversationKeyParts(partitionOf(id)).prefix}${id}`;
  const queuePrefix = (partition: number) => `${prefix}:bull${partitionPart(partition)}`;
  return {
    prefix,
    clustered,
    partitions,
    partitionOf,
    publishCommand: clustered ? 'SPUBLISH' : 'PUBLISH',
    user: (username) => `${prefix}:user:${userPart(username)}`,
    userConversations: (username) => `${prefix}:user:${userPart(username)}:conversations`,
    conversation,
    members: (id) => `${conversation(id)}:members`,
    messages: (id) => `${conversation(id)}:messages`,
    conversationTombstone: (id) => `${conversation(id)}:gone`,
    deliveryHeader: (id) => `${conversation(id)}:delivery`,
    // Built from the conversation's own key: they stay in its hash slot in both layouts.
    reads: (id) => `${conversation(id)}:reads`,
    clientId: (id, author, clientId) => `${conversation(id)}:client-id:${author}:${clientId}`,
    revs: (id) => `${conversation(id)}:revs`,
    conversationKeyParts,
    outbox: (partition) => `${prefix}:outbox:${clustered ? partitionPart(partition) : partition}`,
    wake: (partition) => `${prefix}:wake:${clustered ? partitionPart(partition) : partition}`,
    legacyOutbox: () => `${prefix}:outbox`,
    epoch: (partition) => (clustered ? `${prefix}:epoch:${partitionPart(partition)}` : `${prefix}:epoch`),
    epochIndex: () => `${prefix}:epochs`,
    layout: () => `${prefix}:layout`,
    rateCounter: (scope, subject) => `${prefix}:rate:${scope}:${userPart(subject)}`,
    loginFailures: (address, username) => `${prefix}:rate:login-fail:{${address}}${username === undefined ? '' : `:${username}`}`,
    userSockets: (username) => `${prefix}:user:${userPart(username)}:sockets`,
    userPresence: (username) => `${prefix}:user:${userPart(username)}:presence`,
    presenceExpiries: () => `${prefix}:presence:expiries`,
    // Built from conversation(id), so a script may take it with the conversation's other keys.
    typingThrottle: (id, username) => `${conversation(id)}:typing:${username}`,
    webhookDeadLetters: () => `${prefix}:webhooks:dead`,
    userChannel: (username) => `${userChannelPrefix}${userPart(username)}`,
    userChannelPrefix,
    userOfChannel: (channel) => {
      const name = channel.slice(userChannelPrefix.length);
      return clustered ? name.slice(1, -1) : name;
    },
    conversationChannel: (id) => `${conversationKeyParts(partitionOf(id)).channelPrefix}${id}`,
    conversationChannelPrefix,
    queuePrefix,
    webhookQueuePrefix: `${prefix}:bull${clustered ? '{webhooks}' : ''}`,
    queuePrefixes: () => (clustered ? tags.map((_, partition) => queuePrefix(partition)) : [queuePrefix(0)]),
  };
}
