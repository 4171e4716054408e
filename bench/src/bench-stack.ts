import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, startChatService, startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle, type ServiceHandle } from '@chat/devstack';
import type { WatchedProcess } from './process-cpu.js';

export interface GatewayEndpoint {
  /** ws://host:port/ws */
  wsUrl: string;
  /** http://host:port/metrics (prom-client text). */
  metricsUrl: string;
  pid: number | undefined;
}

/** An extra gateway process started for one workload (the idle-sockets one). */
export interface ExtraGateway extends GatewayEndpoint {
  name: string;
  /** Asks the process for a full garbage collection (it runs a moment later). */
  collectGarbage(): void;
  stop(): Promise<void>;
}

/** The system under test, started here or pointed at with --target. */
export interface BenchTarget {
  /** True when this run started the stack (so it knows every pid and the Redis). */
  readonly owned: boolean;
  readonly apiUrl: string;
  readonly gateways: GatewayEndpoint[];
  readonly redisUrl: string | undefined;
  /** On a cluster: redis:// URL of each master (redisUrl is then the first), for commands per master. */
  readonly redisMasters?: string[];
  /** REDIS_PREFIX of the services (every key they write starts with it); undefined with --target. */
  readonly redisPrefix: string | undefined;
  /** Each service's /metrics (prom-client text, with nodejs heap figures), as far as known. */
  readonly metricsUrls: Record<string, string>;
  /** api, worker, gateway-N, redis: whichever pids are known, running now. */
  processes(): WatchedProcess[];
  /** Every process started during the run, stopped ones included (to name CPU profiles). */
  everStarted(): WatchedProcess[];
  /** A fresh replica for a workload that needs one to itself; undefined with --target. */
  startExtraGateway?: (name: string) => Promise<ExtraGateway>;
  /** Rejects when a service of an owned stack dies during the run. */
  readonly died: Promise<never>;
  stop(): Promise<void>;
  /** Each owned service's recent output, for an error report. */
  logs(): string;
}

export interface OwnStackOptions {
  gatewayReplicas: number;
  /** Extra environment for every service (from --env). */
  env: Record<string, string>;
  /** When set, services run with --cpu-prof and write their profiles here. */
  cpuProfileDir: string | undefined;
  /** Run on a local Redis Cluster (3 masters + 3 replicas, AOF everysec) instead of one redis-server. */
  cluster: boolean;
}

/** One redis-server, or a local cluster: what the stack's services are pointed at. */
interface OwnRedis {
  env: Record<string, string>;
  url: string;
  masters: string[] | undefined;
  pids: { name: string; pid: number | undefined }[];
  dispose(): Promise<void>;
}

async function startOwnRedis(cluster: boolean): Promise<OwnRedis> {
  if (!cluster) {
    const redis: RedisServerHandle = await startRedisServer({ appendOnly: true, appendFsync: 'everysec', detached: true });
    return { env: { REDIS_URL: redis.url }, url: redis.url, masters: undefined, pids: [{ name: 'redis', pid: redis.pid }], dispose: () => redis.dispose() };
  }
  const handle: RedisClusterHandle = await startRedisCluster({ appendOnly: true, extraArgs: ['--appendfsync', 'everysec'], detached: true });
  const masters = (await handle.topology()).filter((node) => node.role === 'master').map((node) => `redis://${node.host}:${node.port}`);
  return {
    env: { REDIS_CLUSTER_NODES: handle.seeds.map((seed) => `${seed.host}:${seed.port}`).join(',') },
    url: masters[0] as string,
    masters,
    pids: handle.ports.map((port) => ({ name: `redis-${port}`, pid: handle.pid(port) })),
    dispose: () => handle.dispose(),
  };
}

export interface ExternalTargetOptions {
  apiUrl: string;
  wsUrls: string[];
  redisUrl: string | undefined;
  pids: Record<string, number>;
}

const START_TIMEOUT_MS = 30_000;

/** The api's rate limits, raised out of the way for a stack the benchmark starts (--env can override). */
export const RAISED_RATE_LIMITS: Record<string, string> = {
  RATE_LIMIT_PER_USER: '1000000000',
  RATE_LIMIT_AUTH_PER_IP: '1000000000',
};
const HOOKS_PRELOAD = `--import ${pathToFileURL(fileURLToPath(new URL('./service-hooks-preload.mjs', import.meta.url))).href}`;

/** A service of the stack this run started exited before the run was over. */
export class ServiceDiedError extends Error {
  constructor(service: ServiceHandle, code: number | null, signal: NodeJS.Signals | null) {
    super(`${service.name} (pid ${service.pid}) died during the run (${signal ?? `exit ${code}`}):\n${service.output().slice(-4000)}`);
    this.name = this.constructor.name;
  }
}

function metricsUrlOf(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = '/metrics';
  url.search = '';
  return url.toString();
}

/**
 * Starts a private redis-server (AOF everysec, as shipped; or a local cluster) and api, worker and
 * N gateways on free ports, with a random key prefix and JWT secret. PASSWORD_HASH_COST is 1024 so that registering
 * thousands of users takes seconds; the report says so.
 */
export async function startOwnStack(options: OwnStackOptions): Promise<BenchTarget> {
  const redis = await startOwnRedis(options.cluster);
  const services: ServiceHandle[] = [];
  const extras = new Map<string, ServiceHandle>();
  const started: WatchedProcess[] = [];
  let stopping = false;

  try {
    const [apiPort, workerPort, ...gatewayPorts] = await Promise.all(
      Array.from({ length: 2 + options.gatewayReplicas }, () => freePort()),
    );
    if (apiPort === undefined || workerPort === undefined) throw new Error('no free ports');
    if (options.cpuProfileDir !== undefined) await mkdir(options.cpuProfileDir, { recursive: true });
    const redisPrefix = options.env.REDIS_PREFIX ?? `bench${randomBytes(4).toString('hex')}`;
    const sharedEnv: Record<string, string> = {
      ...redis.env,
      REDIS_PREFIX: redisPrefix,
      JWT_SECRET: randomBytes(36).toString('base64url'),
      PASSWORD_HASH_COST: '1024',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      // Every request comes from one address and a few users: the api's abuse limits would refuse
      // the generator, not measure the system.
      ...RAISED_RATE_LIMITS,
      // node refuses --cpu-prof in NODE_OPTIONS; a preloaded module runs the same V8 profiler.
      ...(options.cpuProfileDir === undefined ? {} : { NODE_OPTIONS: HOOKS_PRELOAD, BENCH_CPU_PROFILE_DIR: options.cpuProfileDir }),
      ...options.env,
    };
    const launchGateway = (name: string, port: number, extraEnv: Record<string, string> = {}) =>
      startChatService('gateway', { name, port, env: { ...sharedEnv, ...extraEnv }, startTimeoutMs: START_TIMEOUT_MS, detached: true });

    const launched = await Promise.allSettled([
      startChatService('api', { port: apiPort, env: sharedEnv, startTimeoutMs: START_TIMEOUT_MS, detached: true }),
      startChatService('worker', { port: workerPort, env: sharedEnv, startTimeoutMs: START_TIMEOUT_MS, detached: true }),
      ...gatewayPorts.map((port, i) => launchGateway(`gateway-${i}`, port)),
    ]);
    for (const result of launched) if (result.status === 'fulfilled') services.push(result.value);
    const failures = launched.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
    if (failures.length > 0) throw new Error(`the stack did not start:\n${failures.join('\n\n')}`);

    const died = new Promise<never>((_, reject) => {
      for (const service of services) {
        void service.exited.then(({ code, signal }) => {
          if (stopping) return;
          reject(new ServiceDiedError(service, code, signal));
        });
      }
    });
    // Nobody may be listening yet; the rejection is reported by whoever races against it.
    died.catch(() => undefined);

    const redisProcesses = redis.pids.flatMap(({ name, pid }) => (pid === undefined ? [] : [{ name, pid }]));
    started.push(...services.map((service) => ({ name: service.name, pid: service.pid })), ...redisProcesses);
    const gateways = gatewayPorts.map((port, i) => ({
      wsUrl: `ws://127.0.0.1:${port}/ws`,
      metricsUrl: `http://127.0.0.1:${port}/metrics`,
      pid: services[2 + i]?.pid,
    }));

    return {
      owned: true,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      gateways,
      redisUrl: redis.url,
      ...(redis.masters ? { redisMasters: redis.masters } : {}),
      redisPrefix,
      metricsUrls: {
        api: `http://127.0.0.1:${apiPort}/metrics`,
        worker: `http://127.0.0.1:${workerPort}/metrics`,
        ...Object.fromEntries(gateways.map((gateway, i) => [`gateway-${i}`, gateway.metricsUrl])),
      },
      died,
      processes: () => [
        ...services.map((service) => ({ name: service.name, pid: service.pid })),
        ...[...extras.values()].map((service) => ({ name: service.name, pid: service.pid })),
        ...redisProcesses,
      ],
      everStarted: () => [...started],
      async startExtraGateway(name) {
        const port = await freePort();
        // Its heap is measured: the preload lets the benchmark collect garbage first (SIGURG).
        const service = await launchGateway(name, port, { NODE_OPTIONS: HOOKS_PRELOAD, BENCH_GC_ON_SIGURG: '1' });
        extras.set(name, service);
        started.push({ name, pid: service.pid });
        return {
          name,
          wsUrl: `ws://127.0.0.1:${port}/ws`,
          metricsUrl: `http://127.0.0.1:${port}/metrics`,
          pid: service.pid,
          collectGarbage: () => process.kill(service.pid, 'SIGURG'),
          async stop() {
            await service.stop();
            extras.delete(name);
          },
        };
      },
      async stop() {
        stopping = true;
        await Promise.allSettled([...extras.values()].map((service) => service.stop()));
        await Promise.allSettled(services.filter((service) => service.name.startsWith('gateway')).map((service) => service.stop()));
        await Promise.allSettled(services.filter((service) => !service.name.startsWith('gateway')).map((service) => service.stop()));
        await redis.dispose();
      },
      logs: () => [...services, ...extras.values()].map((service) => `===== ${service.name} (pid ${service.pid})\n${service.output()}`).join('\n'),
    };
  } catch (error) {
    stopping = true;
    await Promise.allSettled(services.map((service) => service.stop()));
    await redis.dispose();
    throw error;
  }
}

/** A stack that runs elsewhere: CPU is reported only for the pids given with --pid. */
export function externalTarget(options: ExternalTargetOptions): BenchTarget {
  return {
    owned: false,
    apiUrl: options.apiUrl,
    gateways: options.wsUrls.map((wsUrl, i) => ({ wsUrl, metricsUrl: metricsUrlOf(wsUrl), pid: options.pids[`gateway-${i}`] })),
    redisUrl: options.redisUrl,
    redisPrefix: undefined,
    metricsUrls: Object.fromEntries(options.wsUrls.map((wsUrl, i) => [`gateway-${i}`, metricsUrlOf(wsUrl)])),
    died: new Promise<never>(() => undefined),
    processes: () => Object.entries(options.pids).map(([name, pid]) => ({ name, pid })),
    everStarted: () => Object.entries(options.pids).map(([name, pid]) => ({ name, pid })),
    stop: async () => undefined,
    logs: () => '',
  };
}
