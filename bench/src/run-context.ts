import type { ApiClient } from './api-client.js';
import type { BenchTarget } from './bench-stack.js';
import type { BenchOptions } from './cli-options.js';
import type { CpuSampler } from './process-cpu.js';
import type { ProfileWindows } from './profile-windows.js';
import type { ProgressLine } from './progress-line.js';
import type { RedisStats } from './redis-stats.js';
import type { UserPool } from './user-pool.js';

/** What every workload gets: the stack, the clients and the run's options. */
export interface RunContext {
  options: BenchOptions;
  target: BenchTarget;
  api: ApiClient;
  users: UserPool;
  cpu: CpuSampler;
  /** Undefined with --target and no --redis. */
  redisStats: RedisStats | undefined;
  progress: ProgressLine;
  /** Aborted on Ctrl-C: workloads stop posting and wrap up. */
  signal: AbortSignal;
  /** Unique per post in the whole run. */
  nonces: { next(): number };
  random: () => number;
  /** With --profile: brackets each measured step with the services' CPU sampling. */
  profiles: ProfileWindows | undefined;
}
