/**
 * Shares one in-flight read among every caller asking the same question at the same time. When a
 * publish arrives out of order, every local member socket of that conversation asks the store
 * for the same missing range at once; they now cost one round trip, not one per socket.
 */
export function coalesceReads<Args extends unknown[], Result>(
  read: (...args: Args) => Promise<Result>,
  keyOf: (...args: Args) => string,
): (...args: Args) => Promise<Result> {
  const inFlight = new Map<string, Promise<Result>>();
  return (...args) => {
    const key = keyOf(...args);
    let pending = inFlight.get(key);
    if (!pending) {
      pending = read(...args).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  };
}
