/**
 * The client's own throttle of `typing` frames, per conversation: the gateway drops frames within
 * its window anyway, so sending them would only cost the socket's frame budget.
 */
export class TypingThrottle {
  private readonly sentAt = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True (and counted) when a frame for `conversationId` may go now. */
  take(conversationId: string): boolean {
    const now = this.now();
    const last = this.sentAt.get(conversationId);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.sentAt.set(conversationId, now);
    // Entries past their window are dead weight: drop them now and then.
    if (this.sentAt.size > 256) for (const [id, at] of this.sentAt) if (now - at >= this.intervalMs) this.sentAt.delete(id);
    return true;
  }
}
