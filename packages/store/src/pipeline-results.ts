/** Unwraps ioredis pipeline results, rethrowing the first command error. */
export function pipelineValues(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('pipeline was discarded');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
