/**
 * Every Redis key and channel this system uses, in one place. All carry the configurable prefix so
 * several stacks, or tests, can share one Redis. Usernames and ids are validated before they reach
 * here (contracts/identifiers), so they can never smuggle a separator, a glob or a hash tag.
 */
export interface Keys {
  readonly prefix: string;
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
  /** Sorted set: one delivery partition's deliveries accepted but not yet published, scored by acceptance time. */
  outbox(partition: number): string;
  /** String with a TTL: set while a drain job of the partition is pending (append scripts, drain script). */
  wake(partition: number): string;
  /** The single outbox of releases before partitions: only legacy per-message jobs read it. */
  legacyOutbox(): string;
  /**
   * What conversation(), members() and messages() are made of, for the drain script, which
   * builds the keys of the conversations it finds in an outbox: prefix + id (+ suffix).
   */
  readonly conversationKeyParts: { prefix: string; membersSuffix: string; messagesSuffix: string };
  /** Hash: the store epoch's id and the Redis run_id it was last seen with (store-epoch.ts). */
  epoch(): string;
  /** String counter of one rate-limit window (rate-limiter.ts). */
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
  /** The prefix of userChannel(), so a subscriber can recover the username. */
  readonly userChannelPrefix: string;
  /** Pub/sub channel of one conversation: one delivery event per message, naming the members owed it. */
  conversationChannel(id: string): string;
  /** The prefix of conversationChannel(), for the scripts that publish and the subscriber that routes. */
  readonly conversationChannelPrefix: string;
  /** Prefix BullMQ puts in front of its queue keys. */
  readonly queuePrefix: string;
}

export function createKeys(prefix: string): Keys {
  const userChannelPrefix = `${prefix}:u:`;
  const conversationChannelPrefix = `${prefix}:c:`;
  const conversationKeyParts = { prefix: `${prefix}:conv:`, membersSuffix: ':members', messagesSuffix: ':messages' };
  const conversation = (id: string) => `${conversationKeyParts.prefix}${id}`;
  return {
    prefix,
    user: (username) => `${prefix}:user:${username}`,
    userConversations: (username) => `${prefix}:user:${username}:conversations`,
    conversation,
    // Built from the conversation's own key: they stay in its hash slot whatever that key becomes.
    reads: (id) => `${conversation(id)}:reads`,
    clientId: (id, author, clientId) => `${conversation(id)}:client-id:${author}:${clientId}`,
    members: (id) => `${conversationKeyParts.prefix}${id}${conversationKeyParts.membersSuffix}`,
    messages: (id) => `${conversationKeyParts.prefix}${id}${conversationKeyParts.messagesSuffix}`,
    revs: (id) => `${conversationKeyParts.prefix}${id}:revs`,
    conversationKeyParts,
    outbox: (partition) => `${prefix}:outbox:${partition}`,
    wake: (partition) => `${prefix}:wake:${partition}`,
    legacyOutbox: () => `${prefix}:outbox`,
    epoch: () => `${prefix}:epoch`,
    rateCounter: (scope, subject) => `${prefix}:rate:${scope}:${subject}`,
    loginFailures: (address, username) => `${prefix}:rate:login-fail:{${address}}${username === undefined ? '' : `:${username}`}`,
    userSockets: (username) => `${prefix}:user:${username}:sockets`,
    userPresence: (username) => `${prefix}:user:${username}:presence`,
    presenceExpiries: () => `${prefix}:presence:expiries`,
    // Built like conversation(id), so a script may take it with the conversation's other keys.
    typingThrottle: (id, username) => `${conversationKeyParts.prefix}${id}:typing:${username}`,
    webhookDeadLetters: () => `${prefix}:webhooks:dead`,
    userChannel: (username) => `${userChannelPrefix}${username}`,
    userChannelPrefix,
    conversationChannel: (id) => `${conversationChannelPrefix}${id}`,
    conversationChannelPrefix,
    queuePrefix: `${prefix}:bull`,
  };
}
