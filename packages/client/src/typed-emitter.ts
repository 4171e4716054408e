/** Event name → the arguments its listeners receive. */
export type EventMap<T> = { [K in keyof T]: unknown[] };

export type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * A tiny typed event emitter that behaves the same in browsers and Node. A listener that throws
 * does not stop the others or the emitter's owner: its error is rethrown on a fresh task (as a
 * DOM event handler's would be), so it still reaches the global error handler.
 */
export class TypedEmitter<Events extends EventMap<Events>> {
  // Each set holds listeners of its own event's type; the map cannot say so.
  private readonly listeners = new Map<keyof Events, Set<unknown>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener);
  }

  /** Adds a listener that runs at most once; returns a function that removes it. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(...args);
      } catch (error) {
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }
}
