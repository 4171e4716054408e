import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** A process whose CPU time the report shows. `pid` undefined: not known (a --target stack). */
export interface WatchedProcess {
  name: string;
  pid: number | undefined;
}

interface CpuReading {
  /** Seconds of CPU (user + system) used so far; undefined when unreadable (process gone). */
  seconds: number | undefined;
  /** Of which in the kernel (stime). */
  systemSeconds: number | undefined;
  /** read- and write-like system calls so far (/proc/<pid>/io syscr + syscw); undefined when unreadable. */
  syscalls: number | undefined;
}

export interface CpuSnapshot {
  at: number;
  readings: Map<string, CpuReading>;
  /** /proc/stat: seconds every core spent busy, and stolen by the hypervisor, since boot. */
  machineBusy: number | undefined;
  machineSteal: number | undefined;
}

/** CPU% over a window: 100 = one core busy the whole time. */
export interface CpuUsage {
  /** Per watched process, and the generator (null: pid unknown or gone). */
  processes: Record<string, number | null>;
  /**
   * Per process: the share of its CPU spent in the kernel (0..1), and its read- and write-like
   * system calls per second (each socket read or write is one; epoll waits are not counted). On a
   * virtual machine every socket write that wakes another process is dear: these say where the
   * per-message cost is fixed by system calls rather than by code.
   */
  kernelShare: Record<string, number | null>;
  syscallsPerSecond: Record<string, number | null>;
  /** Every core of the machine, whoever used it. */
  machine: number | null;
  /** Machine minus the processes above: other work on this machine that competed with the run. */
  other: number | null;
  /** Time the hypervisor gave to other machines while this one wanted to run. */
  steal: number | null;
}

export const GENERATOR = 'generator';

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch (error) {
    if (error instanceof Error) return 100;
    throw error;
  }
}

const CLK_TCK = clockTicksPerSecond();

/** A file of /proc, or undefined when the process is gone. */
function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ESRCH' || error.code === 'EACCES')) return undefined;
    throw error;
  }
}

/** utime + stime, and stime, of a process from /proc/<pid>/stat, in seconds. */
function processCpuSeconds(pid: number): { total: number; system: number } | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? { total: (utime + stime) / CLK_TCK, system: stime / CLK_TCK } : undefined;
}

/** syscr + syscw of a process from /proc/<pid>/io. */
function processSyscalls(pid: number | 'self'): number | undefined {
  const io = readProc(`/proc/${pid}/io`);
  if (io === undefined) return undefined;
  const count = (field: string) => Number(new RegExp(`^${field}: (\\d+)`, 'm').exec(io)?.[1]);
  const total = count('syscr') + count('syscw');
  return Number.isFinite(total) ? total : undefined;
}

function readingOf(pid: number | undefined): CpuReading {
  if (pid === undefined) return { seconds: undefined, systemSeconds: undefined, syscalls: undefined };
  const cpu = processCpuSeconds(pid);
  return { seconds: cpu?.total, systemSeconds: cpu?.system, syscalls: processSyscalls(pid) };
}

/** A line of /proc/<pid>/status in bytes (VmRSS, VmHWM …), or undefined. */
export function processStatusBytes(pid: number, field: string): number | undefined {
  const status = readProc(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}

/** Busy and steal seconds of all cores from the first line of /proc/stat. */
function machineCpuSeconds(): { busy: number; steal: number } | undefined {
  const stat = readProc('/proc/stat');
  if (stat === undefined) return undefined;
  const fields = (stat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return { busy: (user + nice + system + irq + softirq) / CLK_TCK, steal: steal / CLK_TCK };
}

/** Samples the CPU time of the watched processes and of this one (the generator). */
export class CpuSampler {
  constructor(private readonly processes: () => WatchedProcess[]) {}

  snapshot(): CpuSnapshot {
    const readings = new Map<string, CpuReading>();
    for (const { name, pid } of this.processes()) readings.set(name, readingOf(pid));
    const own = process.cpuUsage();
    readings.set(GENERATOR, { seconds: (own.user + own.system) / 1e6, systemSeconds: own.system / 1e6, syscalls: processSyscalls('self') });
    const machine = machineCpuSeconds();
    return { at: performance.now(), readings, machineBusy: machine?.busy, machineSteal: machine?.steal };
  }

  /** CPU% of every process between two snapshots (null where unknown). */
  static usage(from: CpuSnapshot, to: CpuSnapshot): CpuUsage {
    const wall = (to.at - from.at) / 1000;
    const percent = (start: number | undefined, end: number | undefined) =>
      start === undefined || end === undefined || wall <= 0 ? null : Math.round(((end - start) / wall) * 1000) / 10;
    const processes: Record<string, number | null> = {};
    const kernelShare: Record<string, number | null> = {};
    const syscallsPerSecond: Record<string, number | null> = {};
    const delta = (start: number | undefined, end: number | undefined) => (start === undefined || end === undefined ? undefined : end - start);
    for (const [name, end] of to.readings) {
      const start = from.readings.get(name);
      processes[name] = percent(start?.seconds, end.seconds);
      const busy = delta(start?.seconds, end.seconds);
      const system = delta(start?.systemSeconds, end.systemSeconds);
      kernelShare[name] = busy === undefined || system === undefined || busy <= 0 ? null : Math.round((system / busy) * 100) / 100;
      const calls = delta(start?.syscalls, end.syscalls);
      syscallsPerSecond[name] = calls === undefined || wall <= 0 ? null : Math.round(calls / wall);
    }
    const machine = percent(from.machineBusy, to.machineBusy);
    const known = Object.values(processes).reduce<number>((sum, value) => sum + (value ?? 0), 0);
    return {
      processes,
      kernelShare,
      syscallsPerSecond,
      machine,
      other: machine === null ? null : Math.max(0, Math.round((machine - known) * 10) / 10),
      steal: percent(from.machineSteal, to.machineSteal),
    };
  }
}
