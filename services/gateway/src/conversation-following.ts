import { decodeUserNotice, type UserNotice } from '@chat/contracts';
import type { ConversationStore, Keys } from '@chat/store';
import type { ChannelSubscriptions } from './channel-subscriptions.js';

export interface ConversationFollowingDeps {
  subscriptions: ChannelSubscriptions;
  keys: Keys;
  conversations: Pick<ConversationStore, 'idsOf'>;
  /**
   * A user with sockets here joined a conversation: called at once, before its channel is
   * subscribed (the sockets hold its messages back until they were told it was added).
   */
  onJoining: (username: string, conversationId: string) => void;
  /** A user with sockets here joined a conversation; its channel is subscribed by now. */
  onJoined: (username: string, conversationId: string) => void;
  /** A user with sockets here left a conversation. */
  onLeft: (username: string, conversationId: string) => void;
  /** A conversation of a user with sockets here changed (title, members). */
  onUpdated: (username: string, conversationId: string) => void;
  /** The read cursor of a user with sockets here moved. */
  onRead: (username: string, conversationId: string, seq: number) => void;
  onMalformedNotice: (username: string) => void;
}

interface FollowedUser {
  /** Settles once the user's channel and their conversations' channels are subscribed. */
  ready: Promise<void>;
  /** Created with the first conversation: an idle user in none costs no Set. */
  conversations: Set<string> | undefined;
}

/**
 * Which channels this replica follows for the users whose sockets it holds: each user's own
 * channel (notices that they joined or left a conversation) and the channel of every conversation
 * they are a member of (one event per message, naming the members owed it). A conversation's
 * channel is followed once however many of its members are here, so a message costs one pub/sub
 * message per replica that holds a member, not one per member.
 *
 * Delivery never depends on this bookkeeping being exact: an event names its members as the
 * delivery script read them, and only their sockets get it. What must hold is that a member's
 * conversation is followed from their socket's `ready` on: the user's channel is subscribed before
 * their conversations are read, so a conversation joined after that read comes as a notice, and a
 * joined conversation's channel is subscribed before its socket catches up from the store.
 * A conversation left while it was being read may stay followed until the user's last socket here
 * goes: harmless, its events no longer name them.
 */
export class ConversationFollowing {
  private readonly users = new Map<string, FollowedUser>();

  constructor(private readonly deps: ConversationFollowingDeps) {}

  /** Resolves once every channel the user needs is subscribed; concurrent sockets share it. */
  follow(username: string): Promise<void> {
    let user = this.users.get(username);
    if (!user) {
      const created: FollowedUser = { ready: Promise.resolve(), conversations: undefined };
      this.users.set(username, created);
      created.ready = this.start(username, created);
      // A failed start must not be reused by the next socket of this user.
      created.ready.catch(() => {
        if (this.users.get(username) === created) this.unfollow(username);
      });
      user = created;
    }
    return user.ready;
  }

  /** The user's last socket here went: leave their channels (those no other user here needs). */
  unfollow(username: string): void {
    const user = this.users.get(username);
    if (!user) return;
    this.users.delete(username);
    const { subscriptions, keys } = this.deps;
    subscriptions.release(keys.userChannel(username), username);
    for (const id of user.conversations ?? []) subscriptions.release(keys.conversationChannel(id), username);
  }

  /** A notice from a user's channel. */
  onNotice(username: string, payload: Buffer): void {
    const user = this.users.get(username);
    if (!user) return;
    const notice = decodeUserNotice(payload);
    if (!notice) {
      this.deps.onMalformedNotice(username);
      return;
    }
    this.apply(username, user, notice);
  }

  /**
   * After a pub/sub outage, notices may have been missed: reads the user's conversations again,
   * follows the new ones and leaves the others. Returns the ids read.
   */
  async refresh(username: string): Promise<string[]> {
    const ids = await this.deps.conversations.idsOf(username);
    const user = this.users.get(username);
    if (!user) return ids;
    const current = new Set(ids);
    // What the missed notices would have said: the sockets are told (removed, added) as they would have been.
    for (const id of [...(user.conversations ?? [])]) {
      if (current.has(id)) continue;
      this.leave(username, user, id);
      this.deps.onLeft(username, id);
    }
    const joined = ids.filter((id) => !user.conversations?.has(id));
    for (const id of joined) this.deps.onJoining(username, id);
    await Promise.all(joined.map((id) => this.join(username, user, id)));
    if (this.users.get(username) === user) for (const id of joined) this.deps.onJoined(username, id);
    return ids;
  }

  /** Whether the user's conversation is followed here (joined and not left since). */
  follows(username: string, conversationId: string): boolean {
    return this.users.get(username)?.conversations?.has(conversationId) ?? false;
  }

  /** Users followed here (with at least one socket). */
  get count(): number {
    return this.users.size;
  }

  private async start(username: string, user: FollowedUser): Promise<void> {
    await this.deps.subscriptions.acquire(this.deps.keys.userChannel(username), username);
    const ids = await this.deps.conversations.idsOf(username);
    // Gone meanwhile: unfollow released what was taken so far, and nothing more is taken.
    if (this.users.get(username) !== user || ids.length === 0) return;
    await Promise.all(ids.map((id) => this.join(username, user, id)));
  }

  private apply(username: string, user: FollowedUser, notice: UserNotice): void {
    const { conversationId } = notice;
    switch (notice.change) {
      case 'left':
        this.leave(username, user, conversationId);
        this.deps.onLeft(username, conversationId);
        return;
      case 'updated':
        this.deps.onUpdated(username, conversationId);
        return;
      case 'read':
        this.deps.onRead(username, conversationId, notice.seq);
        return;
      case 'joined':
        break;
    }
    this.deps.onJoining(username, conversationId);
    const joined = () => {
      if (this.users.get(username) === user) this.deps.onJoined(username, conversationId);
    };
    // Also when the subscriber connection failed: the sockets must still hear of the conversation
    // (and stop holding it back); pub/sub recovery subscribes again and catches up.
    this.join(username, user, conversationId).then(joined, joined);
  }

  private join(username: string, user: FollowedUser, id: string): Promise<void> {
    (user.conversations ??= new Set()).add(id);
    return this.deps.subscriptions.acquire(this.deps.keys.conversationChannel(id), username);
  }

  private leave(username: string, user: FollowedUser, id: string): void {
    if (!user.conversations?.delete(id)) return;
    this.deps.subscriptions.release(this.deps.keys.conversationChannel(id), username);
  }
}
