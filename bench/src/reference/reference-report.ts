import { cpus } from 'node:os';
import type { LatencySummary } from '../latency-samples.js';
import { GENERATOR, type CpuUsage } from '../process-cpu.js';
import type { RedisPerMessage } from '../redis-stats.js';

/** What one measured step of a reference stack gave. */
export interface ReferenceStep {
  messages: number;
  expected: number;
  received: number;
  latency: LatencySummary;
  cpu: CpuUsage;
  redis: RedisPerMessage;
  /** Length of the posting window. */
  seconds: number;
}

/** Each process's CPU ms, kernel share and system calls per message, as the bench's own table shows them. */
function perMessage(step: ReferenceStep, names: string[]) {
  const { cpu, seconds, messages } = step;
  return names.map((name) => {
    const percent = cpu.processes[name] ?? null;
    const ms = percent === null ? null : ((percent / 100) * seconds * 1000) / messages;
    const kernel = cpu.kernelShare[name];
    const syscalls = cpu.syscallsPerSecond[name];
    return {
      name,
      ms: ms === null ? '–' : ms.toFixed(3),
      kernel: kernel == null ? '–' : `${Math.round(kernel * 100)} %`,
      syscalls: syscalls == null ? '–' : ((syscalls * seconds) / messages).toFixed(1),
      msValue: ms ?? 0,
    };
  });
}

/** The markdown a run prints: what ran, deliveries and latency, then the cost of every process. */
export function referenceReport(title: string, shape: string, step: ReferenceStep, processNames: string[]): string {
  const rows = perMessage(step, [...processNames, GENERATOR]);
  const servicesMs = rows.filter((row) => row.name !== GENERATOR).reduce((sum, row) => sum + row.msValue, 0);
  const { latency } = step;
  return [
    `# ${title}`,
    '',
    `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, node ${process.version}. ${shape}`,
    '',
    `Delivered ${step.received} of ${step.expected}; delivery latency p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, max ${latency.max.toFixed(1)} ms. Redis commands per message ${step.redis.commandsPerMessage} (incl. inside scripts).`,
    '',
    '| process | CPU ms per message | kernel share | read/write syscalls per message |',
    '|---|---:|---:|---:|',
    ...rows.map((row) => `| ${row.name} | ${row.ms} | ${row.kernel} | ${row.syscalls} |`),
    `| **services (all but the generator)** | **${servicesMs.toFixed(3)}** | | |`,
  ].join('\n');
}
