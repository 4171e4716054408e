import { createRef } from 'lit-html/directives/ref.js';

/** Within this many pixels of the bottom counts as "at the bottom" (follow new messages). */
const BOTTOM_SLACK_PX = 48;
/** Within this many pixels of the top, older messages are loaded. */
const TOP_TRIGGER_PX = 80;

/** What the log shows: `run` changes whenever it starts over (another conversation opens). */
export interface ShownRun {
  run: number;
  /** Ascending seqs shown. */
  seqs: readonly number[];
}

interface Measured {
  atBottom: boolean;
  fromBottom: number;
}

/**
 * Where the message log is scrolled, kept across renders: it follows new messages while the reader
 * is at the bottom, keeps its place while older pages are prepended, and asks for older messages
 * when the reader reaches the top (or the first page does not fill the view, so there is no top to
 * scroll to). The screen calls `before` and `after` around every render.
 */
export class MessageLogScroll {
  readonly logRef = createRef<HTMLElement>();
  private toBottom = false;
  /** What the last render showed. */
  private shown: ShownRun | undefined;
  private measured: Measured | undefined;

  /** `onNeedOlder` is called when the reader reaches the top; it decides whether older messages exist. */
  constructor(readonly onNeedOlder: () => void) {}

  readonly onScroll = (): void => {
    if ((this.logRef.value?.scrollTop ?? Infinity) <= TOP_TRIGGER_PX) this.onNeedOlder();
  };

  /** The next render ends scrolled to the newest message. */
  scrollToBottom(): void {
    this.toBottom = true;
  }

  /** Before a render: where the log is scrolled. */
  before(): void {
    const log = this.logRef.value;
    this.measured = log && { atBottom: log.scrollHeight - log.scrollTop - log.clientHeight <= BOTTOM_SLACK_PX, fromBottom: log.scrollHeight - log.scrollTop };
  }

  /** After a render that shows `shown`: follow, keep the place, or go to the bottom. */
  after(shown: ShownRun): void {
    const log = this.logRef.value;
    const [last, measured] = [this.shown, this.measured];
    this.shown = shown;
    this.measured = undefined;
    if (!log) return;
    const sameRun = last !== undefined && last.run === shown.run;
    const added = sameRun ? shown.seqs.length > last.seqs.length : shown.seqs.length > 0;
    if (added && sameRun && measured) {
      const [firstBefore] = last.seqs;
      const [firstNow] = shown.seqs;
      const prepended = firstBefore !== undefined && last.seqs.at(-1) === shown.seqs.at(-1) && (firstNow as number) < firstBefore;
      if (prepended) log.scrollTop = log.scrollHeight - measured.fromBottom;
      else if (measured.atBottom) log.scrollTop = log.scrollHeight;
    }
    if (this.toBottom) {
      this.toBottom = false;
      log.scrollTop = log.scrollHeight;
    }
    // After the first page: when it does not fill the view, there is no scrolling to the top, so load more now.
    if (added && log.scrollHeight <= log.clientHeight + TOP_TRIGGER_PX) this.onNeedOlder();
  }
}
