import type { StepResult } from '../posting-step.js';
import type { CpuUsage } from '../process-cpu.js';
import type { RedisPerMessage } from '../redis-stats.js';
import type { RampReport } from '../workloads/conversation-ramp.js';
import type { SoakReport } from '../workloads/soak.js';
import type { BenchReport } from './bench-report.js';

type Cell = string | number | null | undefined;

function table(headers: string[], rows: Cell[][]): string {
  const text = (cell: Cell) => (cell === null || cell === undefined ? '–' : String(cell));
  // Right-align the columns that hold only numbers.
  const numeric = headers.map((_, i) => rows.every((row) => typeof row[i] === 'number' || row[i] === null || row[i] === undefined));
  const lines = [`| ${headers.join(' | ')} |`, `|${numeric.map((isNumber) => (isNumber ? '---:' : '---')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map(text).join(' | ')} |`);
  return lines.join('\n');
}

function errorsText(errors: Record<string, number>): string {
  const entries = Object.entries(errors);
  return entries.length === 0 ? '0' : entries.map(([key, count]) => `${count}× ${key}`).join(', ');
}

function kb(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '–' : `${(bytes / 1024).toFixed(1)} KB`;
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '–' : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Every name that appears in any of the records, in the stack's order (api, worker, gateways, redis, the rest). */
function orderedNames(records: Record<string, unknown>[]): string[] {
  const order = (name: string) => (name === 'api' ? 0 : name === 'worker' ? 1 : name.startsWith('gateway') ? 2 : name === 'redis' ? 3 : 4);
  const names = new Set<string>();
  for (const record of records) for (const name of Object.keys(record)) names.add(name);
  return [...names].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
}

function soakSection(soak: SoakReport): string {
  const names = orderedNames(soak.samples.map((sample) => sample.processes));
  const megabytes = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? null : Math.round(bytes / 1024 / 102.4) / 10);
  return [
    '## Soak: memory over time',
    '',
    `${soak.rate} msg/s for ${soak.minutes} min over ${soak.setup.conversations} conversations of ${soak.setup.membersPerConversation} members ` +
      `(${soak.setup.users} users, ${soak.setup.replicas} replica(s)), ${soak.churnPerSecond} socket(s) closed and reconnected per second; ` +
      `a sample every ${soak.sampleSeconds} s. "B/msg" = growth of Redis used_memory since the start ÷ messages stored since: ` +
      'stored history grows it by a steady amount per message, anything else that grows is a leak. Memory in MB (RSS / heap used).',
    '',
    table(
      ['s', 'stored', 'msg/s', 'refused', 'lost', 'p99 ms', 'Redis MB', 'B/msg', 'BullMQ keys', 'keys', 'reconnects', ...names],
      soak.samples.map((sample) => [
        sample.atSeconds,
        sample.acceptedTotal,
        sample.interval?.achievedRate,
        sample.interval?.refused,
        sample.interval?.lost,
        sample.interval?.p99Ms,
        megabytes(sample.redisUsedBytes),
        sample.redisBytesPerMessage,
        sample.bullmqKeys,
        sample.redisKeys,
        sample.socketsReplaced,
        ...names.map((name) => {
          const usage = sample.processes[name];
          return usage === undefined ? null : `${megabytes(usage.rssBytes) ?? '–'} / ${megabytes(usage.heapUsedBytes) ?? '–'}`;
        }),
      ]),
    ),
    ...(soak.problems.length > 0 ? ['', ...soak.problems.map((problem) => `- ${problem}`)] : []),
  ].join('\n');
}

/** Every process that appears in any of the steps, in a stable order. */
function processNames(steps: { cpu: CpuUsage }[]): string[] {
  return orderedNames(steps.map((step) => step.cpu.processes));
}

/** CPU% per process; with a rate, also the CPU milliseconds all of them spent per accepted message. */
function cpuTable(steps: { name: string; cpu: CpuUsage; rate?: number }[]): string {
  const names = processNames(steps);
  const perMessage = steps.some((step) => step.rate !== undefined);
  return table(
    ['step', ...names.map((name) => `${name} %`), 'sum %', ...(perMessage ? ['CPU ms per msg'] : []), 'machine %', 'other processes %', 'steal %'],
    steps.map((step) => {
      const values = names.map((name) => step.cpu.processes[name] ?? null);
      const total = values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
      const msPerMessage = step.rate ? Math.round((total * 10 * 100) / step.rate) / 100 : null;
      return [step.name, ...values, Math.round(total * 10) / 10, ...(perMessage ? [msPerMessage] : []), step.cpu.machine, step.cpu.other, step.cpu.steal];
    }),
  );
}

/**
 * Per process and accepted message: CPU ms, the share of it in the kernel, and read/write system
 * calls. Steps without a rate or without readable /proc counters show blanks.
 */
function perMessageCostTable(steps: { name: string; cpu: CpuUsage; rate?: number }[]): string {
  const names = processNames(steps);
  return table(
    ['step', ...names],
    steps.map((step) => [
      step.name,
      ...names.map((name) => {
        const percent = step.cpu.processes[name];
        if (!step.rate || percent === null || percent === undefined) return null;
        const ms = Math.round((percent * 10 * 1000) / step.rate) / 1000;
        const kernel = step.cpu.kernelShare?.[name];
        const calls = step.cpu.syscallsPerSecond?.[name];
        const parts = [`${ms} ms`];
        if (kernel !== null && kernel !== undefined) parts.push(`${Math.round(kernel * 100)} % kernel`);
        if (calls !== null && calls !== undefined) parts.push(`${Math.round((calls / step.rate) * 10) / 10} syscalls`);
        return parts.join(' · ');
      }),
    ]),
  );
}

/** Average CPU% that processes outside the run used during the measured windows. */
function outsideLoad(report: BenchReport): number | null {
  const { chat, bigroom, writes } = report.workloads;
  const others = [...(chat?.steps ?? []), ...(bigroom?.steps ?? []), ...(writes ? [writes] : [])]
    .map((step) => step.cpu.other)
    .filter((value): value is number => value !== null);
  return others.length === 0 ? null : Math.round((others.reduce((sum, value) => sum + value, 0) / others.length) * 10) / 10;
}

function topCommands(redis: RedisPerMessage, count: number): string {
  return Object.entries(redis.byCommand)
    .slice(0, count)
    .map(([command, calls]) => `${command} ${calls}`)
    .join(', ');
}

function perMasterText(byMaster: NonNullable<RedisPerMessage['byMaster']>): string {
  const each = Object.entries(byMaster.commandsPerMessage).map(([node, commands]) => `${node} ${commands}`);
  return `${each.join(', ')} (${byMaster.maxOverMean})`;
}

function redisTable(steps: { name: string; redis: RedisPerMessage | undefined }[]): string {
  return table(
    ['step', 'messages', 'socket reads/msg (≈ round trips)', 'commands/msg (incl. inside scripts)', 'script calls/msg', 'top commands per message', 'commands/msg per master (busiest ÷ mean)'],
    steps.map((step) => [
      step.name,
      step.redis?.messages,
      step.redis?.readsPerMessage,
      step.redis?.commandsPerMessage,
      step.redis?.byRole['script calls (round trips)'] ?? (step.redis ? 0 : null),
      step.redis ? topCommands(step.redis, 8) : null,
      step.redis?.byMaster ? perMasterText(step.redis.byMaster) : null,
    ]),
  );
}

/** Requests sent to Redis and segments received from it, per message and service (from `ss`). */
function redisByProcessTable(steps: { name: string; redis: RedisPerMessage | undefined }[]): string | undefined {
  const withSplit = steps.filter((step) => step.redis?.byProcess !== undefined);
  if (withSplit.length === 0) return undefined;
  const names = orderedNames(withSplit.map((step) => step.redis?.byProcess ?? {}));
  return table(
    ['step', ...names.flatMap((name) => [`${name} requests/msg`, `${name} received/msg`])],
    withSplit.map((step) => [
      step.name,
      ...names.flatMap((name) => {
        const traffic = step.redis?.byProcess?.[name];
        return [traffic?.requests ?? null, traffic?.received ?? null];
      }),
    ]),
  );
}

/** The global Redis table, and the split by service when it could be measured. */
function redisSections(steps: { name: string; redis: RedisPerMessage | undefined }[]): string[] {
  const byProcess = redisByProcessTable(steps);
  return [
    '### Redis per accepted message (INFO commandstats / stats deltas, all clients)',
    '',
    redisTable(steps),
    ...(byProcess
      ? [
          '',
          '### Redis round trips per accepted message, by service',
          '',
          'Data segments each service sent to Redis (≈ requests: a pipeline leaves in one write) and received from it (replies; for a gateway, the pub/sub messages), from the kernel’s counters of its connections (`ss -ti`).',
          '',
          byProcess,
        ]
      : []),
  ];
}

function stepTable(steps: StepResult[]): string {
  return table(
    [
      'step',
      'offered msg/s',
      'attempted',
      'accepted',
      'achieved msg/s',
      'shortfall',
      'refused (503)',
      'HTTP errors',
      'expected',
      'received',
      'lost',
      'dup',
      'out of order',
      'delivered/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'POST p99 ms',
      'gen. loop p99 ms',
      'sustainable',
    ],
    steps.map((step) => [
      step.name,
      step.targetRate,
      step.posts.attempted,
      step.posts.accepted,
      step.achievedRate,
      step.posts.shortfall,
      step.posts.refused,
      errorsText(step.posts.errors),
      step.deliveries.expected,
      step.deliveries.received,
      step.deliveries.lost,
      step.deliveries.duplicated,
      step.deliveries.outOfOrder,
      step.deliveredPerSecond,
      step.latency.p50,
      step.latency.p90,
      step.latency.p99,
      step.latency.max,
      step.postLatency.p99,
      step.generatorLoopDelay.p99,
      step.sustainable ? 'yes' : `no: ${step.verdict.join('; ')}`,
    ]),
  );
}

function rampSection(title: string, ramp: RampReport): string {
  const steps = ramp.warmup ? [ramp.warmup, ...ramp.steps] : ramp.steps;
  const { setup } = ramp;
  const best = ramp.sustainableRate === null ? '**no step was sustainable**' : `**${ramp.sustainableRate} msg/s** (${ramp.sustainableDeliveriesPerSecond} deliveries/s)`;
  return [
    `## ${title}`,
    '',
    `${setup.users} users with one socket each over ${setup.replicas} gateway replica(s); ${setup.conversations} conversation(s) of ` +
      `${setup.membersPerConversation} members (${setup.conversationsSpanningReplicas} spanning replicas); sockets ready in ${setup.socketConnectSeconds} s. ` +
      `Sustainable = 0 lost, delivery p99 ≤ ${ramp.criteria.p99Ms} ms, accepted ≥ 95% of offered.` +
      `${ramp.stoppedEarly ? ' The ramp stopped early after repeated unsustainable steps.' : ''}`,
    '',
    `Highest sustainable step: ${best}.`,
    '',
    'Latency is per delivery, from just before the POST to the frame at each member socket (same clock). ' +
      '"lost" = owed but not received by the end of the drain after the step (until all arrived, nothing arrived for the drain idle time, or the drain limit). ' +
      '"shortfall" = posts due that were not sent because too many were already waiting for an answer. ' +
      '"refused (503)" = posts the api shed with 503 `unavailable` (its event loop later than MAX_EVENT_LOOP_DELAY_MS, or the delivery backlog over MAX_DELIVERY_BACKLOG; its chat_messages_shed_total{reason} tells which): nothing stored, not in the latency; ' +
      'latency is of accepted messages only.',
    '',
    stepTable(steps),
    '',
    '### CPU per process (posting window)',
    '',
    cpuTable(steps.map((step) => ({ ...step, rate: step.achievedRate }))),
    '',
    '### Cost per accepted message, by process',
    '',
    'CPU ms, the share of it spent in the kernel, and read- and write-like system calls (/proc/<pid>/io syscr + syscw: each socket read or write is one).',
    '',
    perMessageCostTable(steps.map((step) => ({ ...step, rate: step.achievedRate }))),
    '',
    ...redisSections(steps),
    ...(ramp.problems.length > 0 ? ['', '### Socket problems', '', ...ramp.problems.map((problem) => `- ${problem}`)] : []),
    '',
  ].join('\n');
}

/** summary.md, also printed to stdout at the end of a run. */
export function markdownSummary(report: BenchReport): string {
  const { environment: env, stack, workloads } = report;
  const parts: string[] = [
    `# Benchmark ${report.startedAt}${report.smoke ? ' (smoke)' : ''}`,
    '',
    `${env.cpus} × ${env.cpuModel}, ${env.memoryMB} MB, ${env.platform}, node ${env.node}, redis ${env.redisVersion ?? '?'}, ` +
      `commit ${env.gitCommit ?? '?'}; load average at start ${env.loadAverageAtStart.join(' ')}. ` +
      `Ran ${report.durationSeconds} s${report.interrupted ? ' (interrupted)' : ''}.`,
    '',
    `Stack: ${stack.owned ? 'started by the benchmark' : `external (${stack.apiUrl})`}; ` +
      `processes ${stack.processes.map((p) => `${p.name}${p.pid === undefined ? '' : ` (pid ${p.pid})`}`).join(', ') || 'unknown'}.`,
    ...stack.notes.map((note) => `- ${note}`),
    '',
  ];
  const outside = outsideLoad(report);
  if (outside !== null && outside > 20) {
    parts.push(
      `**Warning:** processes outside this run used ${outside}% CPU on average during the measured steps ` +
        `(see "other processes" below): the services were competing for the cores, so these figures are pessimistic.`,
      '',
    );
  }
  if (report.targets.length > 0) {
    parts.push(
      '## Targets',
      '',
      table(
        ['workload', 'goal', 'measured', 'met'],
        report.targets.map((check) => [check.name, check.goal, check.measured, check.met === null ? '?' : check.met ? 'yes' : '**no**']),
      ),
      '',
    );
  }
  if (report.registrations.length > 0) {
    parts.push(
      `Registrations: ${report.registrations.map((r) => `${r.users} users in ${r.seconds} s (${r.perSecond}/s)`).join('; ')}.`,
      '',
    );
  }
  if (workloads.chat) parts.push(rampSection('Chat: many small conversations', workloads.chat));
  if (workloads.bigroom) parts.push(rampSection('Big room: one conversation, every member online', workloads.bigroom));
  const { idle } = workloads;
  if (idle) {
    parts.push(
      '## Idle sockets',
      '',
      `${idle.sockets} authenticated sockets${idle.sockets < idle.requestedSockets ? ` (of ${idle.requestedSockets} requested)` : ''} on ` +
        `${idle.gateway.fresh ? 'a fresh gateway process' : idle.gateway.url}, ${idle.connectConcurrency} handshakes at a time; ` +
        `source ports ${idle.sourcePorts}.`,
      ...(idle.limitedBy ? ['', `**Fewer sockets than requested:** ${idle.limitedBy}`] : []),
      '',
      table(
        ['connects/s', 'connect time s', 'RSS before', 'RSS after', 'RSS per socket', 'heap before', 'heap after', 'heap per socket', 'external per socket'],
        [
          [
            idle.connectsPerSecond,
            idle.connectSeconds,
            mb(idle.before.rssProcBytes ?? idle.before.rssMetricBytes),
            mb(idle.after.rssProcBytes ?? idle.after.rssMetricBytes),
            kb(idle.perSocket.rssBytes),
            mb(idle.before.heapUsedBytes),
            mb(idle.after.heapUsedBytes),
            kb(idle.perSocket.heapBytes),
            kb(idle.perSocket.externalBytes),
          ],
        ],
      ),
      '',
      `${idle.garbageCollected ? 'Both readings follow a full GC in the gateway.' : 'No GC was forced (garbage counts too).'} CPU during the connects:`,
      '',
      cpuTable([{ name: 'connects', cpu: idle.cpuDuringConnects }]),
      ...(idle.problems.length > 0 ? ['', ...idle.problems.map((problem) => `- ${problem}`)] : []),
      '',
    );
  }
  const { writes } = workloads;
  if (writes) {
    parts.push(
      '## Writes: one api, no sockets',
      '',
      `Closed loop, ${writes.concurrency} POSTs in flight for ${writes.seconds} s over ${writes.conversations} conversations.`,
      '',
      table(
        ['accepted/s', 'attempted', 'accepted', 'refused (503)', 'HTTP errors', 'POST p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        [
          [
            writes.acceptedPerSecond,
            writes.posts.attempted,
            writes.posts.accepted,
            writes.posts.refused,
            errorsText(writes.posts.errors),
            writes.postLatency.p50,
            writes.postLatency.p90,
            writes.postLatency.p99,
            writes.postLatency.max,
          ],
        ],
      ),
      '',
      cpuTable([{ name: 'writes', cpu: writes.cpu, rate: writes.acceptedPerSecond }]),
      '',
      ...redisSections([{ name: 'writes', redis: writes.redis }]),
      '',
    );
  }
  if (workloads.soak) parts.push(soakSection(workloads.soak), '');
  if (report.errors.length > 0) {
    parts.push('## Errors', '', ...report.errors.map((error) => `- **${error.workload}**: ${error.message.split('\n')[0]}`), '');
  }
  parts.push(
    `Files: ${[report.files.json, report.files.markdown, report.files.chart, report.files.profiles].filter((file) => file !== null).join(', ')}`,
    '',
  );
  return parts.join('\n');
}
