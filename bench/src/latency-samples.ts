/** Percentiles reported for every latency distribution. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Every sample of one step, in milliseconds, kept exactly (a growable Float64Array) and sorted
 * once at the end: a few million samples cost a few MB, and no bucketing error hides a tail.
 */
export class LatencySamples {
  private values = new Float64Array(1024);
  private size = 0;

  add(ms: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size] = ms;
    this.size += 1;
  }

  get count(): number {
    return this.size;
  }

  summary(): LatencySummary {
    if (this.size === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
    const sorted = this.values.slice(0, this.size).sort();
    let total = 0;
    for (const value of sorted) total += value;
    // Nearest-rank percentile: the smallest sample with at least p% of the samples at or below it.
    const at = (p: number) => sorted[Math.min(this.size - 1, Math.max(0, Math.ceil((p / 100) * this.size) - 1))] ?? 0;
    return {
      count: this.size,
      p50: round(at(50)),
      p90: round(at(90)),
      p99: round(at(99)),
      max: round(sorted[this.size - 1] ?? 0),
      mean: round(total / this.size),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
