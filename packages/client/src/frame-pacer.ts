/**
 * Sends frames in order without passing the gateway's per-socket limit (20 frames a second,
 * bursts of 40): a token bucket a little below it, and a queue for what must wait.
 */
export class FramePacer {
  private tokens: number;
  private updatedAt = Date.now();
  private readonly queue: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly write: (frame: string) => void,
    private readonly perSecond = 15,
    private readonly burst = 30,
  ) {
    this.tokens = burst;
  }

  send(frame: string): void {
    this.queue.push(frame);
    this.flush();
  }

  /** Drops what is queued (the socket is gone). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private flush(): void {
    if (this.timer !== undefined) return;
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.write(this.queue.shift() as string);
    }
    if (this.queue.length > 0) {
      const waitMs = Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, waitMs);
    }
  }
}
