import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTimeEntry {
  name: string;
  /** Where: a package, node internals, or a file of this repository. */
  where: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  pid: number | null;
  process: string | null;
  /** The step the profile covers (profiles taken in windows), or null (whole process life). */
  step: string | null;
  /** Wall time the profile covers, and how much of it the thread was busy. */
  wallMs: number;
  busyMs: number;
  top: SelfTimeEntry[];
  /** Self time by package / area, largest first. */
  byArea: SelfTimeEntry[];
}

/** node_modules/<pkg>, node:internal, or the repository path of a file. */
function areaOf(url: string): string {
  if (url === '') return '(native / runtime)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const repo = /\/(services|packages)\/([^/]+)\//.exec(url);
  if (repo) return `${repo[1]}/${repo[2]}`;
  return basename(url);
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const repo = /\/((?:services|packages)\/.*)$/.exec(url);
  return repo?.[1] ?? url.replace(/^file:\/\//, '');
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Self time per function (summed over call sites) from a V8 .cpuprofile written by --cpu-prof. */
export async function summarizeCpuProfile(
  file: string,
  processes: Map<number, string>,
  steps: Map<number, string> = new Map(),
  topCount = 25,
): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byArea = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    busyUs += us;
    const name = frame.functionName || '(anonymous)';
    const where = frame.url === '' ? '' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const key = `${name}@${where}`;
    const entry = byFunction.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const area = name.startsWith('(') ? name : areaOf(frame.url);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  // cpu-<pid>-<window>.cpuprofile (the benchmark's preload) or CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile (--cpu-prof).
  const windowed = /^cpu-(\d+)-(\d+)\.cpuprofile$/.exec(basename(file));
  const pidMatch = windowed ?? /\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(basename(file));
  const pid = pidMatch?.[1] === undefined ? null : Number(pidMatch[1]);
  const window = windowed?.[2] === undefined ? undefined : Number(windowed[2]);
  const percent = (us: number) => round((us / Math.max(busyUs, 1)) * 100);
  return {
    file,
    pid,
    process: pid === null ? null : (processes.get(pid) ?? null),
    step: window === undefined ? null : (steps.get(window) ?? `window ${window}`),
    wallMs: round((profile.endTime - profile.startTime) / 1000),
    busyMs: round(busyUs / 1000),
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topCount)
      .map((entry) => ({ name: entry.name, where: entry.where, ms: round(entry.us / 1000), percent: percent(entry.us) })),
    byArea: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([area, us]) => ({ name: area, where: '', ms: round(us / 1000), percent: percent(us) })),
  };
}

export async function summarizeProfileDir(dir: string, processes: Map<number, string>, steps: Map<number, string> = new Map()): Promise<ProfileSummary[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.cpuprofile'));
  const summaries = await Promise.all(files.map((file) => summarizeCpuProfile(join(dir, file), processes, steps)));
  // By step, then by process name.
  return summaries.sort((a, b) => (a.step ?? '').localeCompare(b.step ?? '') || (a.process ?? '').localeCompare(b.process ?? ''));
}

export function profileSummaryMarkdown(summaries: ProfileSummary[]): string {
  const parts = ['# CPU profiles (self time)', ''];
  for (const summary of summaries) {
    parts.push(
      `## ${summary.step === null ? '' : `${summary.step}: `}${summary.process ?? 'unknown process'} (pid ${summary.pid ?? '?'}): busy ${summary.busyMs} ms of ${summary.wallMs} ms`,
      '',
      `\`${basename(summary.file)}\``,
      '',
      '| area | self ms | % of busy |',
      '|---|---:|---:|',
      ...summary.byArea.map((entry) => `| ${entry.name} | ${entry.ms} | ${entry.percent} |`),
      '',
      '| function | where | self ms | % of busy |',
      '|---|---|---:|---:|',
      ...summary.top.map((entry) => `| ${entry.name} | ${entry.where} | ${entry.ms} | ${entry.percent} |`),
      '',
    );
  }
  return parts.join('\n');
}
