import type { ChatApi, ChatConnection } from '@chat/client';
import { PresenceState } from './presence-state.js';

export interface LivePresenceDeps {
  api: Pick<ChatApi, 'getPresence'>;
  connection: Pick<ChatConnection, 'on' | 'typing'>;
  me: string;
  /** Aborted when the screen ends: timers stop and answers after it are dropped. */
  signal: AbortSignal;
  /** Who is online or typing changed. */
  onChange: () => void;
}

/**
 * Keeps the online dots and "… is typing" lines (presence-state.ts) fed from the live connection,
 * and sends this user's own typing. It exists so the screen only says when members are shown, a
 * key is typed or a message arrives; which frames to follow, and that a reconnect must ask again
 * for what it missed, live here.
 */
export class LivePresence {
  private readonly state: PresenceState;

  constructor(private readonly deps: LivePresenceDeps) {
    this.state = new PresenceState({ api: deps.api, me: deps.me, signal: deps.signal, onChange: deps.onChange });
  }

  /** Follows the connection's frames; returns the undo. */
  listen(): () => void {
    const c = this.deps.connection;
    const offs = [
      // Presence changes while disconnected came as frames nobody received.
      c.on('ready', () => {
        void this.state.ask(this.state.known(), true);
      }),
      c.on('presence', ({ user, online }) => this.state.seen(user, online)),
      c.on('typing', ({ conversationId, user }) => this.state.typingIn(conversationId, user)),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /** A conversation shows these members: read the presence of those not known yet. */
  membersShown(users: readonly string[]): void {
    void this.state.ask(users);
  }

  /** Text was typed in `conversationId`: tell its members (the connection throttles it). */
  typed(conversationId: string): void {
    this.deps.connection.typing(conversationId);
  }

  /** A message from `author` ends their typing indicator there. */
  messageArrived(conversationId: string, author: string): void {
    this.state.stopTyping(conversationId, author);
  }

  isOnline(user: string): boolean | undefined {
    return this.state.isOnline(user);
  }

  typingLine(conversationId: string): string {
    return this.state.typingLine(conversationId);
  }
}
