export interface HeartbeatOptions {
  /** A ping every this many ms; 0 or less turns the heartbeat off. */
  intervalMs: number;
  /** No frame within this long after a ping: the connection is dead. */
  timeoutMs: number;
  ping(): void;
  /** The connection is dead (half-open: the socket may never report its close). */
  onDead(reason: string): void;
}

/** Pings a socket that may be silent, and notices when nothing answers. */
export class Heartbeat {
  private interval: ReturnType<typeof setInterval> | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: HeartbeatOptions) {}

  /** Starts pinging; a second start (a second `ready` on one socket) replaces the first. */
  start(): void {
    this.stop();
    const { intervalMs, timeoutMs } = this.options;
    if (intervalMs <= 0) return;
    this.interval = setInterval(() => {
      this.options.ping();
      this.deadline ??= setTimeout(() => this.options.onDead(`no answer to a ping within ${timeoutMs} ms`), timeoutMs);
    }, intervalMs);
  }

  /** Any frame proves the connection is alive. */
  alive(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  stop(): void {
    clearInterval(this.interval);
    this.interval = undefined;
    this.alive();
  }
}
