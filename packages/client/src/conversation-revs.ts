import type { Summary } from './types.js';

/**
 * The highest `rev` (1.1) seen per conversation in frames from the gateway, which sends every
 * frame of a conversation in rev order: a resume with it replays the edits and deletions missed
 * meanwhile. Only frames count: a message read over REST may carry a later rev than frames
 * received so far, and counting it would skip the changes between.
 */
export class ConversationRevs {
  private readonly revs = new Map<string, number>();

  /** A frame's message (a `message` or a `message_updated`); messages of servers before 1.1 carry no rev. */
  saw(message: Summary): void {
    const rev = (message as { rev?: unknown }).rev;
    if (typeof rev !== 'number' || !Number.isSafeInteger(rev)) return;
    const known = this.revs.get(message.conversationId);
    if (known === undefined || rev > known) this.revs.set(message.conversationId, rev);
  }

  /** Seeds or advances the rev of a conversation loaded over REST (never moves back). */
  track(conversationId: string, rev: number): void {
    const known = this.revs.get(conversationId);
    if (known === undefined || rev > known) this.revs.set(conversationId, rev);
  }

  forget(conversationId: string): void {
    this.revs.delete(conversationId);
  }

  reset(): void {
    this.revs.clear();
  }

  rev(conversationId: string): number | undefined {
    return this.revs.get(conversationId);
  }

  all(): Record<string, number> {
    return Object.fromEntries(this.revs);
  }
}
