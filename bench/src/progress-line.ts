/**
 * One status line: on a terminal it is rewritten in place; otherwise (CI logs, a pipe) only
 * `log` lines and every `plainEveryMs` an update are printed, each on a line of its own.
 */
export class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private shown = false;
  private lastPlainAt = 0;
  private readonly startedAt = performance.now();

  constructor(private readonly plainEveryMs = 5000) {}

  update(text: string): void {
    if (this.tty) {
      const width = process.stderr.columns ?? 120;
      process.stderr.write(`\r\x1b[K${text.slice(0, width - 1)}`);
      this.shown = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPlainAt >= this.plainEveryMs) {
      this.lastPlainAt = now;
      process.stderr.write(`  … ${text}\n`);
    }
  }

  /** A line that stays (a step started or finished), stamped with the seconds since the start. */
  log(text: string): void {
    this.clear();
    const elapsed = ((performance.now() - this.startedAt) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${elapsed} s] ${text}\n`);
    this.lastPlainAt = Date.now();
  }

  clear(): void {
    if (this.tty && this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
