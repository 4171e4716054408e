import { readdirSync, readFileSync } from 'node:fs';

export interface OpenFileLimit {
  soft: number;
  hard: number;
  /** Descriptors this process has open right now. */
  open: number;
}

/** This process's RLIMIT_NOFILE, from /proc/self/limits (children inherit it). */
export function openFileLimit(): OpenFileLimit {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const parse = (value: string | undefined) => (value === undefined || value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value));
  return { soft: parse(match?.[1]), hard: parse(match?.[2]), open: readdirSync('/proc/self/fd').length };
}
