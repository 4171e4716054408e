import { randomBytes } from 'node:crypto';
import {
  freePort,
  startChatService,
  startRedisCluster,
  startRedisServer,
  type RedisClusterHandle,
  type RedisServerHandle,
  type ServiceHandle,
} from '@chat/devstack';

/** Which Redis a stack runs on: one redis-server, or a local Redis Cluster of 3 masters and 3 replicas. */
export type RedisMode = 'single' | 'cluster';

/** Both modes, for a suite that runs once per mode (`for (const mode of REDIS_MODES) describe(…)`). */
export const REDIS_MODES: readonly RedisMode[] = ['single', 'cluster'];

/**
 * A local cluster for a test: 3 masters + 3 replicas on free ports, a 1 s cluster-node-timeout so a
 * failover takes a couple of seconds, no AOF (the test's data is thrown away).
 */
export function startTestCluster(): Promise<RedisClusterHandle> {
  return startRedisCluster({ appendOnly: false, nodeTimeoutMs: 1000 });
}

export interface StackOptions {
  /** Gateway replicas (default 2). */
  gateways?: number;
  /** WORKER_CONCURRENCY for the worker. */
  workerConcurrency?: number;
  /** More environment for every service (ports and hosts are always the stack's). */
  env?: Record<string, string>;
  /** Use this redis-server instead of starting one; the stack then leaves it running on stop(). */
  redis?: RedisServerHandle;
  /** 'cluster': start a local Redis Cluster (startTestCluster) and run every service on it. Default 'single'. */
  mode?: RedisMode;
}

export interface Stack {
  mode: RedisMode;
  /** The redis-server (single mode; throws on a cluster). */
  redis: RedisServerHandle;
  /** The cluster (cluster mode; throws on one Redis). */
  cluster: RedisClusterHandle;
  /** The environment that points a service (or the test's own connectRedis) at this stack's Redis. */
  redisEnv: Record<string, string>;
  apiUrl: string;
  workerUrl: string;
  /** http://127.0.0.1:PORT of each gateway replica. */
  gatewayUrls: string[];
  /** ws://127.0.0.1:PORT/ws of each gateway replica. */
  wsUrls: string[];
  jwtSecret: string;
  /** REDIS_PREFIX shared by every service of this stack. */
  prefix: string;
  api: ServiceHandle;
  worker: ServiceHandle;
  /** The current process of each replica (restartGateway replaces an entry). */
  gateways: ServiceHandle[];
  /** Stops replica i (if it still runs) and starts it again on the same port. */
  restartGateway(i: number): Promise<void>;
  /** Stops the worker (if it still runs) and starts a new one on the same port. */
  restartWorker(): Promise<void>;
  /** Stops the api (if it still runs) and starts a new one on the same port. */
  restartApi(): Promise<void>;
  /**
   * Stops every service (and the redis-server, if the stack started it). Safe to call twice.
   * Prints the services' output when one of them crashed or exited badly, or when STACK_LOGS is set.
   */
  stop(): Promise<void>;
  /** Every service's buffered output, for a failing test's report. */
  dumpLogs(): string;
}

const START_TIMEOUT_MS = 20_000;

/**
 * Starts a complete, isolated system for end-to-end tests: its own redis-server (unless given),
 * api, worker and N gateways on free ports, a random key prefix and a random JWT secret.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const gatewayCount = options.gateways ?? 2;
  const mode = options.mode ?? 'single';
  const ownsRedis = options.redis === undefined;
  const backend: RedisServerHandle | RedisClusterHandle =
    options.redis ?? (mode === 'cluster' ? await startTestCluster() : await startRedisServer({}));
  const redisEnv: Record<string, string> =
    'seeds' in backend
      ? { REDIS_CLUSTER_NODES: backend.seeds.map((seed) => `${seed.host}:${seed.port}`).join(',') }
      : { REDIS_URL: backend.url };
  const onlyIn = <T>(wanted: RedisMode, value: T | undefined): T => {
    if (value === undefined) throw new Error(`this stack runs on ${mode === 'cluster' ? 'a cluster' : 'one Redis'}, not ${wanted}`);
    return value;
  };
  const prefix = `t${randomBytes(6).toString('hex')}`;
  const jwtSecret = randomBytes(36).toString('base64url');
  const [apiPort, workerPort, ...gatewayPorts] = await Promise.all(
    Array.from({ length: 2 + gatewayCount }, () => freePort()),
  );
  if (apiPort === undefined || workerPort === undefined) throw new Error('startStack: no free ports');

  const sharedEnv: Record<string, string> = {
    ...redisEnv,
    REDIS_PREFIX: prefix,
    JWT_SECRET: jwtSecret,
    PASSWORD_HASH_COST: '1024',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
    // Off unless a test is about it: a test machine running files in parallel stalls a process's
    // event loop for longer than the production bound, and unrelated posts would be shed.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...(options.workerConcurrency !== undefined ? { WORKER_CONCURRENCY: String(options.workerConcurrency) } : {}),
    ...options.env,
  };
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const workerUrl = `http://127.0.0.1:${workerPort}`;
  const gatewayUrls = gatewayPorts.map((port) => `http://127.0.0.1:${port}`);
  const wsUrls = gatewayPorts.map((port) => `ws://127.0.0.1:${port}/ws`);

  const launchGateway = (i: number) => {
    const port = gatewayPorts[i];
    if (port === undefined) throw new RangeError(`no gateway ${i} (the stack has ${gatewayCount})`);
    return startChatService('gateway', { name: `gateway-${i}`, port, env: sharedEnv, startTimeoutMs: START_TIMEOUT_MS });
  };
  const launchApi = () => startChatService('api', { port: apiPort, env: sharedEnv, startTimeoutMs: START_TIMEOUT_MS });
  const launchWorker = () => startChatService('worker', { port: workerPort, env: sharedEnv, startTimeoutMs: START_TIMEOUT_MS });

  const launched = await Promise.allSettled([launchApi(), launchWorker(), ...gatewayPorts.map((_, i) => launchGateway(i))]);

  const started = launched.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = launched.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (failed.length > 0) {
    await Promise.allSettled(started.map((service) => service.stop()));
    if (ownsRedis) await backend.dispose();
    const reasons = failed.map((reason: unknown) => (reason instanceof Error ? reason.message : String(reason)));
    throw new Error(`startStack failed:\n${reasons.join('\n\n')}`);
  }
  const [api, worker, ...gateways] = started as [ServiceHandle, ServiceHandle, ...ServiceHandle[]];
  // Services stopped or killed on purpose and replaced: their output stays in the dump.
  const replaced: ServiceHandle[] = [];

  const all = () => [...replaced, stack.api, stack.worker, ...gateways];
  const dumpLogs = () =>
    [
      ...all().map((service) => `===== ${service.name} (pid ${service.pid}) =====\n${service.output()}`),
      ...('seeds' in backend
        ? backend.ports.map((port) => `===== redis-server (cluster node ${port}) =====\n${backend.output(port)}`)
        : [`===== redis-server (${backend.url}) =====\n${backend.output()}`]),
    ].join('\n');

  let stopping: Promise<void> | undefined;

  async function stopAll(): Promise<void> {
    const codes = await Promise.all([...gateways, stack.worker].map((service) => service.stop()));
    codes.push(await stack.api.stop());
    // A test that killed a service on purpose left a null code; a non-zero number means a crash
    // or a shutdown that failed, which the test itself may not have noticed.
    const troubled = codes.some((code) => code !== null && code !== 0);
    if (troubled || process.env.STACK_LOGS) process.stderr.write(`${dumpLogs()}\n`);
    if (ownsRedis) await backend.dispose();
  }

  const stack: Stack = {
    mode,
    get redis() {
      return onlyIn('single', 'seeds' in backend ? undefined : backend);
    },
    get cluster() {
      return onlyIn('cluster', 'seeds' in backend ? backend : undefined);
    },
    redisEnv,
    apiUrl,
    workerUrl,
    gatewayUrls,
    wsUrls,
    jwtSecret,
    prefix,
    api,
    worker,
    gateways,
    async restartGateway(i) {
      const current = gateways[i];
      if (current === undefined) throw new RangeError(`no gateway ${i} (the stack has ${gateways.length})`);
      await current.stop();
      replaced.push(current);
      gateways[i] = await launchGateway(i);
    },
    async restartWorker() {
      await stack.worker.stop();
      replaced.push(stack.worker);
      stack.worker = await launchWorker();
    },
    async restartApi() {
      await stack.api.stop();
      replaced.push(stack.api);
      stack.api = await launchApi();
    },
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
    dumpLogs,
  };
  return stack;
}
