import type { ResumedInfo } from './connection-events.js';
import { RESUME_CURSORS_MAX, type ResumeFrame } from './types.js';

/** Resume frames stay well below the gateway's 16 KiB frame limit. */
const RESUME_FRAME_BYTES_MAX = 12_000;

/**
 * One socket's resume: splits the cursors into as many `resume` frames as the gateway's limits
 * need (usually one), and matches each `resumed` answer to its frame, oldest first.
 */
export class ResumeBatcher {
  /** Conversation ids of each resume frame still unanswered, oldest first. */
  private readonly batches: string[][] = [];
  private readonly resuming = new Set<string>();
  private readonly lost: string[] = [];

  /**
   * The resume frames for these cursors (and, where known, the highest rev seen: 1.1), to send
   * first on the socket; each now awaits its answer.
   */
  frames(cursors: Record<string, number>, epoch: string | undefined, revs: Record<string, number> = {}): ResumeFrame[] {
    const frames: ResumeFrame[] = [];
    let batch: Record<string, number> = {};
    let batchRevs: Record<string, number> = {};
    let ids: string[] = [];
    let bytes = 0;
    const flush = () => {
      const withRevs = Object.keys(batchRevs).length > 0 ? { revs: batchRevs } : {};
      frames.push({ type: 'resume', cursors: batch, ...withRevs, ...(epoch !== undefined ? { epoch } : {}) });
      this.batches.push(ids);
      batch = {};
      batchRevs = {};
      ids = [];
      bytes = 0;
    };
    for (const [id, seq] of Object.entries(cursors)) {
      const rev = revs[id];
      const entryBytes = id.length + String(seq).length + 4 + (rev === undefined ? 0 : id.length + String(rev).length + 4);
      if (ids.length >= RESUME_CURSORS_MAX || (ids.length > 0 && bytes + entryBytes > RESUME_FRAME_BYTES_MAX)) flush();
      batch[id] = seq;
      if (rev !== undefined) batchRevs[id] = rev;
      ids.push(id);
      this.resuming.add(id);
      bytes += entryBytes;
    }
    if (ids.length > 0 || frames.length === 0) flush();
    return frames;
  }

  /** True while the resume of this conversation is unanswered: its replay may still fill a gap. */
  isResuming(conversationId: string): boolean {
    return this.resuming.has(conversationId);
  }

  /** Takes the answer to the oldest unanswered frame; returns the conversations it could not replay. */
  answer(recovered: boolean, conversations: string[]): string[] {
    const batch = this.batches.shift() ?? [];
    for (const id of batch) this.resuming.delete(id);
    const lost = recovered ? [] : conversations;
    this.lost.push(...lost);
    return lost;
  }

  /** Once every frame is answered: the outcome of the whole resume; undefined before. */
  outcome(): ResumedInfo | undefined {
    if (this.batches.length > 0) return undefined;
    return { recovered: this.lost.length === 0, conversations: [...this.lost] };
  }
}
