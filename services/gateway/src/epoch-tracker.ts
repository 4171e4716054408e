/**
 * The store epoch this replica serves (store-epoch.ts in @chat/store). Read when the first socket
 * needs it and again after every pub/sub outage; a change means history may have gone backwards.
 */
export class EpochTracker {
  private epoch: string | undefined;

  constructor(private readonly observe: () => Promise<string>) {}

  /** Undefined until the first read. */
  get current(): string | undefined {
    return this.epoch;
  }

  async refresh(): Promise<{ epoch: string; changed: boolean }> {
    const next = await this.observe();
    const changed = this.epoch !== undefined && next !== this.epoch;
    this.epoch = next;
    return { epoch: next, changed };
  }
}
