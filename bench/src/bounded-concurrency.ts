/**
 * Runs `task` for every index in [0, count) with at most `limit` running at once, and resolves
 * with the results in index order. The first failure rejects (the tasks already started finish).
 */
export async function mapWithConcurrency<T>(
  count: number,
  limit: number,
  task: (index: number) => Promise<T>,
  onDone?: (done: number) => void,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | undefined;
  async function lane(): Promise<void> {
    while (failure === undefined && next < count) {
      const index = next;
      next += 1;
      try {
        results[index] = await task(index);
      } catch (error) {
        failure ??= { error };
        return;
      }
      done += 1;
      onDone?.(done);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, () => lane()));
  if (failure !== undefined) throw failure.error;
  return results;
}
