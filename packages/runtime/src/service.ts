/**
 * What every service's factory returns (`createApi`, `createWorker`, `createGateway`), so all three
 * are started the same way: `main.ts` only reads config, builds the dependencies, calls `start()`
 * and wires `stop()` to the shutdown signal; a test can do the same in-process on port 0.
 */
export interface Service {
  /** Loads what must be loaded and starts serving; resolves once it serves (listening, consuming). */
  start(): Promise<void>;
  /** Stops accepting, drains what is in hand (bounded), closes its connections; safe to call twice. */
  stop(): Promise<void>;
}
