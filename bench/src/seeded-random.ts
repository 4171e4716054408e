/** A small seeded PRNG (mulberry32), so the same --seed builds the same conversations. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct integers from [0, n), in random order (partial Fisher-Yates). */
export function sampleDistinct(n: number, count: number, random: () => number): number[] {
  if (count > n) throw new RangeError(`cannot pick ${count} distinct values out of ${n}`);
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i += 1) {
    const j = i + Math.floor(random() * (n - i));
    const picked = pool[j] as number;
    pool[j] = pool[i] as number;
    pool[i] = picked;
  }
  return pool.slice(0, count);
}
