/** The tail of a child's stdout+stderr, kept for the error message or test report when it fails. */
export interface OutputBuffer {
  append(chunk: Buffer | string): void;
  text(): string;
  /** The last `count` non-empty lines. */
  lastLines(count: number): string;
}

export function createOutputBuffer(limitBytes = 200 * 1024): OutputBuffer {
  let chunks: Buffer[] = [];
  let size = 0;

  return {
    append(chunk) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(buffer);
      size += buffer.length;
      if (size > limitBytes * 2) {
        // Compact rarely rather than on every chunk: a chatty child should not cost O(n²) copying.
        const all = Buffer.concat(chunks);
        const kept = all.subarray(all.length - limitBytes);
        chunks = [kept];
        size = kept.length;
      }
    },
    text() {
      const all = Buffer.concat(chunks);
      return all.subarray(Math.max(0, all.length - limitBytes)).toString('utf8');
    },
    lastLines(count) {
      return this.text()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .slice(-count)
        .join('\n');
    },
  };
}
