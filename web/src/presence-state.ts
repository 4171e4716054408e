import { PRESENCE_QUERY_MAX, type ChatApi } from '@chat/client';

/** A typing indicator lasts this long after its last frame (the sender repeats it every 2 s while typing). */
const TYPING_SHOWN_MS = 3500;

export interface PresenceStateDeps {
  api: Pick<ChatApi, 'getPresence'>;
  me: string;
  signal: AbortSignal;
  onChange: () => void;
}

/**
 * Who is online and who is typing, as far as the page knows: `presence` frames keep it current,
 * and members never heard of are asked for over REST when a conversation shows them (frames only
 * come with a change). Typing indicators fade unless repeated, and end with the typer's message.
 */
export class PresenceState {
  private readonly online = new Map<string, boolean>();
  private readonly asked = new Set<string>();
  /** conversationId → user → timer that ends the indicator. */
  private readonly typing = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();

  constructor(private readonly deps: PresenceStateDeps) {
    deps.signal.addEventListener('abort', () => {
      for (const users of this.typing.values()) for (const timer of users.values()) clearTimeout(timer);
      this.typing.clear();
    });
  }

  isOnline(user: string): boolean | undefined {
    return this.online.get(user);
  }

  /** A `presence` event. */
  seen(user: string, online: boolean): void {
    this.online.set(user, online);
    this.asked.add(user);
    this.deps.onChange();
  }

  /** Reads the presence of the members not known yet (or of all, after a reconnect: frames were missed). */
  async ask(users: readonly string[], again = false): Promise<void> {
    const wanted = [...new Set(users)].filter((user) => user !== this.deps.me && (again || !this.asked.has(user)));
    if (wanted.length === 0) return;
    for (const user of wanted) this.asked.add(user);
    try {
      for (let i = 0; i < wanted.length; i += PRESENCE_QUERY_MAX) {
        const items = await this.deps.api.getPresence(wanted.slice(i, i + PRESENCE_QUERY_MAX), { signal: this.deps.signal });
        for (const item of items) this.online.set(item.user, item.online);
        this.deps.onChange();
      }
    } catch (error) {
      // Dots are a nicety: left unknown (no dot) and asked again on the next reconnect.
      for (const user of wanted) this.asked.delete(user);
      if (!this.deps.signal.aborted) console.warn(`presence not read: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Users whose presence was asked or heard: what a reconnect asks again. */
  known(): string[] {
    return [...this.asked];
  }

  /** A `typing` event: shown until it fades or their message arrives. */
  typingIn(conversationId: string, user: string): void {
    let users = this.typing.get(conversationId);
    if (!users) this.typing.set(conversationId, (users = new Map()));
    clearTimeout(users.get(user));
    users.set(
      user,
      setTimeout(() => this.stopTyping(conversationId, user), TYPING_SHOWN_MS),
    );
    this.deps.onChange();
  }

  stopTyping(conversationId: string, user: string): void {
    const users = this.typing.get(conversationId);
    const timer = users?.get(user);
    if (!users || timer === undefined) return;
    clearTimeout(timer);
    users.delete(user);
    if (users.size === 0) this.typing.delete(conversationId);
    this.deps.onChange();
  }

  /** "bob is typing…", "bob and carol are typing…", or '' when nobody is. */
  typingLine(conversationId: string): string {
    const users = [...(this.typing.get(conversationId)?.keys() ?? [])].sort();
    if (users.length === 0) return '';
    if (users.length === 1) return `${users[0]} is typing…`;
    if (users.length <= 3) return `${users.slice(0, -1).join(', ')} and ${users.at(-1)} are typing…`;
    return `${users.length} people are typing…`;
  }
}
