/**
 * `npm start`: the whole system on one machine — Redis (a private redis-server unless REDIS_URL
 * or REDIS_CLUSTER_NODES is given; a private Redis Cluster with `--cluster`), the api, the
 * worker, GATEWAY_REPLICAS gateways, and the dev edge in front of them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@chat/config';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { createDevEdge, type DevEdgeServer } from './dev-edge.js';
import { portIsFree } from './free-port.js';
import { resolveJwtSecret } from './jwt-secret.js';
import { redisReachable } from './redis-ping.js';
import { startRedisCluster, type RedisClusterHandle } from './redis-cluster.js';
import { RedisServerNotFoundError, startRedisServer, type RedisServerHandle } from './redis-server.js';
import type { ServiceHandle } from './service-process.js';
import { superviseService, type SupervisedService, type SupervisorEvent } from './service-supervisor.js';
import { servicePath, type ServiceName } from './service-paths.js';
import { startChatService } from './start-chat-service.js';
import { loadStackConfig, type StackConfig } from './stack-config.js';

/** Stops before anything is started, with one line on stderr. */
function refuse(message: string, exitCode = 1): never {
  process.stderr.write(`stack: ${message}\n`);
  process.exit(exitCode);
}

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

let config: StackConfig;
try {
  config = loadStackConfig();
} catch (error) {
  if (error instanceof ConfigError) refuse(error.message, 78);
  throw error;
}

const logger = createLogger(createProcessIdentity('stack'), { level: config.LOG_LEVEL });

const missing = (['api', 'worker', 'gateway'] as const satisfies readonly ServiceName[]).filter(
  (name) => !existsSync(servicePath(name)),
);
if (missing.length > 0) {
  refuse(`not built yet: ${missing.map((name) => servicePath(name)).join(', ')} (run \`npx tsc -b\`)`);
}

// A health check answered by some other program on the same port would look like success, so
// every port must be free before anything starts.
const wantedPorts: Array<{ variable: string; host: string; port: number }> = [
  { variable: 'EDGE_PORT', host: config.EDGE_HOST, port: config.EDGE_PORT },
  { variable: 'API_PORT', host: '127.0.0.1', port: config.API_PORT },
  { variable: 'WORKER_PORT', host: '127.0.0.1', port: config.WORKER_PORT },
  ...Array.from({ length: config.GATEWAY_REPLICAS }, (_, i) => ({
    variable: 'GATEWAY_BASE_PORT',
    host: '127.0.0.1',
    port: config.GATEWAY_BASE_PORT + i,
  })),
  ...(config.REDIS_URL === undefined && config.REDIS_CLUSTER_NODES === undefined && !config.LOCAL_REDIS_CLUSTER
    ? [{ variable: 'LOCAL_REDIS_PORT', host: '127.0.0.1', port: config.LOCAL_REDIS_PORT }]
    : []),
];
const duplicate = wantedPorts.find((wanted, i) => wantedPorts.findIndex((other) => other.port === wanted.port) !== i);
if (duplicate) refuse(`port ${duplicate.port} is configured twice (${duplicate.variable}); give every part its own port`);
for (const wanted of wantedPorts) {
  if (!(await portIsFree(wanted.port, wanted.host))) {
    refuse(`port ${wanted.port} on ${wanted.host} is already in use (is another stack running?); set ${wanted.variable} to use another`);
  }
}

let redis: RedisServerHandle | undefined;
let cluster: RedisClusterHandle | undefined;
/** Where the services' Redis is, as they read it (REDIS_URL or REDIS_CLUSTER_NODES). */
let redisEnv: Record<string, string>;
/** The same, for the log line. */
let redisUrl: string;
if (config.REDIS_CLUSTER_NODES !== undefined) {
  const nodes = config.REDIS_CLUSTER_NODES.map((node) => `${node.host}:${node.port}`).join(',');
  redisEnv = { REDIS_CLUSTER_NODES: nodes };
  redisUrl = `cluster ${nodes}`;
} else if (config.LOCAL_REDIS_CLUSTER) {
  try {
    // Kept in DATA_DIR/cluster: a second start brings back the same nodes, ports and data.
    cluster = await startRedisCluster({ dir: join(config.DATA_DIR, 'cluster'), appendOnly: true, detached: true });
  } catch (error) {
    refuse(`could not start a local Redis Cluster in ${join(config.DATA_DIR, 'cluster')}: ${firstLine(error)}`);
  }
  const nodes = cluster.seeds.map((seed) => `${seed.host}:${seed.port}`).join(',');
  redisEnv = { REDIS_CLUSTER_NODES: nodes };
  redisUrl = `local cluster ${nodes}`;
} else if (config.REDIS_URL !== undefined) {
  if (!(await redisReachable(config.REDIS_URL, 2_000))) {
    refuse(`REDIS_URL ${withoutPassword(config.REDIS_URL)} does not answer PING; start that Redis, or unset REDIS_URL to run a private one`);
  }
  redisUrl = config.REDIS_URL;
  redisEnv = { REDIS_URL: redisUrl };
} else {
  try {
    redis = await startRedisServer({
      dir: join(config.DATA_DIR, 'redis'),
      port: config.LOCAL_REDIS_PORT,
      appendOnly: true,
      appendFsync: 'everysec',
      detached: true,
    });
  } catch (error) {
    if (error instanceof RedisServerNotFoundError) {
      refuse('redis-server is not on PATH: install it (`apt-get install redis-server`) or set REDIS_URL to a running Redis');
    }
    refuse(`could not start redis-server on port ${config.LOCAL_REDIS_PORT} (set LOCAL_REDIS_PORT to use another): ${firstLine(error)}`);
  }
  redisUrl = redis.url;
  redisEnv = { REDIS_URL: redisUrl };
}

/** Stops the stack's own Redis (server or cluster), if it started one; its data stays in DATA_DIR. */
const stopRedis = async () => {
  await redis?.stop();
  await cluster?.dispose();
};

let jwtSecret: string;
try {
  const resolved = await resolveJwtSecret(config.JWT_SECRET, config.DATA_DIR);
  logger.debug({ source: resolved.source, file: resolved.file }, 'JWT secret');
  jwtSecret = resolved.secret;
} catch (error) {
  await stopRedis();
  refuse(`JWT secret: ${firstLine(error)}`);
}

/** What every service is told; the caller's own environment passes through, so e.g. REDIS_PREFIX works. */
const sharedEnv: Record<string, string> = {};
for (const [name, value] of Object.entries(process.env)) {
  if (value !== undefined) sharedEnv[name] = value;
}
Object.assign(sharedEnv, {
  ...redisEnv,
  JWT_SECRET: jwtSecret,
  LOG_LEVEL: config.LOG_LEVEL,
  NODE_ENV: process.env.NODE_ENV ?? 'development',
});

const apiUrl = `http://127.0.0.1:${config.API_PORT}`;
const workerUrl = `http://127.0.0.1:${config.WORKER_PORT}`;
const gatewayPorts = Array.from({ length: config.GATEWAY_REPLICAS }, (_, i) => config.GATEWAY_BASE_PORT + i);
const gatewayUrls = gatewayPorts.map((port) => `http://127.0.0.1:${port}`);

/** What a service started after `restarts` restarts is told: it shows the count on its /metrics. */
const envAfter = (restarts: number, env: Record<string, string> = sharedEnv) => ({ ...env, SERVICE_RESTARTS: String(restarts) });

/** How to start each service; the supervisor calls it again, with the count, to restart one that died. */
const launchers: Array<{ name: string; start: (restarts: number) => Promise<ServiceHandle> }> = [
  // The api sits behind the local edge: believe its X-Forwarded-For for client addresses.
  {
    name: 'api',
    start: (restarts) =>
      startChatService('api', { port: config.API_PORT, env: envAfter(restarts, { TRUST_PROXY: 'loopback', ...sharedEnv }), logSink: 'inherit', detached: true }),
  },
  {
    name: 'worker',
    start: (restarts) => startChatService('worker', { port: config.WORKER_PORT, env: envAfter(restarts), logSink: 'inherit', detached: true }),
  },
  ...gatewayPorts.map((port, i) => ({
    name: `gateway-${i}`,
    start: (restarts: number) => startChatService('gateway', { name: `gateway-${i}`, port, env: envAfter(restarts), logSink: 'inherit', detached: true }),
  })),
];
const launched = await Promise.allSettled(launchers.map((launcher) => launcher.start(0)));
const started = launched.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
const failures = launched.flatMap((result) => (result.status === 'rejected' ? [firstLine(result.reason)] : []));
if (failures.length > 0) {
  for (const failure of failures) logger.error(failure);
  await Promise.allSettled(started.map((service) => service.stop()));
  await stopRedis();
  logger.flush();
  refuse('a service did not start (see above); everything is stopped');
}

let stopping = false;

/** What the supervisors report, as log lines; a crash loop stops the stack. */
function onSupervisorEvent(event: SupervisorEvent): void {
  if (stopping) return;
  switch (event.kind) {
    case 'died':
      logger.error(
        { service: event.name, pid: event.pid, code: event.code, signal: event.signal, restarts: event.restarts, restartInMs: event.restartInMs },
        'a service died; restarting it',
      );
      break;
    case 'restarted':
      logger.info({ service: event.name, pid: event.pid, restarts: event.restarts }, 'service restarted');
      break;
    case 'restart-failed':
      logger.error({ service: event.name, reason: event.reason, restarts: event.restarts, restartInMs: event.restartInMs }, 'a service failed to restart; trying again');
      break;
    case 'gave-up':
      logger.error(
        { service: event.name, restarts: event.restarts, windowS: event.windowMs / 1000 },
        `${event.name} keeps dying (crash loop); stopping the stack`,
      );
      void stopStack(1);
      break;
  }
}

const services: SupervisedService[] = launchers.map((launcher, i) =>
  superviseService({ name: launcher.name, start: launcher.start, first: started[i]!, onEvent: onSupervisorEvent }),
);

const byName = (prefix: string) => services.filter((service) => service.name.startsWith(prefix));
const edge: DevEdgeServer = createDevEdge({ apiUrl, gatewayUrls, staticDir: config.WEB_DIR, logger });


/** Stops in dependency order: nothing new comes in, then gateways, worker, api, and Redis last. */
async function stopStack(exitCode: number): Promise<never> {
  stopping = true;
  logger.info('stopping the stack');
  await edge.shutdown().catch((error: unknown) => logger.warn({ err: { message: firstLine(error) } }, 'edge close failed'));
  for (const group of [byName('gateway-'), byName('worker'), byName('api')]) {
    const codes = await Promise.all(group.map((service) => service.stop()));
    group.forEach((service, i) => {
      if (codes[i] !== 0) logger.warn({ service: service.name, code: codes[i] }, 'service did not exit cleanly');
    });
  }
  await stopRedis();
  logger.info('stack stopped');
  logger.flush();
  process.exit(exitCode);
}

/** The second Ctrl-C: no more waiting. The process-exit hook SIGKILLs whatever still runs. */
function killStack(): never {
  logger.warn('killing everything now');
  logger.flush();
  process.exit(0);
}

/**
 * Under `npm start` one Ctrl-C arrives twice: from the terminal (same process group) and from npm,
 * which forwards it. Signals within this window of the first count as that same one.
 */
const REPEATED_SIGNAL_WINDOW_MS = 1000;
let firstSignalAt: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    const now = Date.now();
    if (firstSignalAt === undefined) {
      firstSignalAt = now;
      void stopStack(0);
    } else if (now - firstSignalAt > REPEATED_SIGNAL_WINDOW_MS) {
      killStack();
    }
  });
}

edge.on('error', (error) => {
  logger.error({ err: { message: error.message }, host: config.EDGE_HOST, port: config.EDGE_PORT }, 'the edge cannot listen (set EDGE_PORT to use another port)');
  if (!stopping) void stopStack(1);
});
edge.listen(config.EDGE_PORT, config.EDGE_HOST, () => {
  const origin = `http://${config.EDGE_HOST.includes(':') ? `[${config.EDGE_HOST}]` : config.EDGE_HOST}:${config.EDGE_PORT}`;
  logger.info(
    {
      web: `${origin}/`,
      websocket: `${origin.replace(/^http/, 'ws')}/ws`,
      api: apiUrl,
      worker: workerUrl,
      gateways: gatewayUrls,
      pids: Object.fromEntries(services.map((service) => [service.name, service.current().pid])),
      redis: redisEnv.REDIS_URL === undefined ? redisUrl : withoutPassword(redisUrl),
      dataDir: config.DATA_DIR,
    },
    `stack ready: open ${origin}/ (Ctrl-C stops it)`,
  );
});
