import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CLUSTER_SLOTS,
  parseClusterNodes,
  parseInfoFields,
  servesSlot,
  slotCount,
  type ClusterNodeInfo,
} from './cluster-nodes.js';
import { freeClusterPort } from './free-port.js';
import { askRedis } from './redis-ping.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';
import { runRedisCli } from './run-redis-cli.js';

export interface RedisClusterOptions {
  /** Default 3, the fewest `redis-cli --cluster create` accepts. */
  masters?: number;
  /** Replicas of each master. Default 1. */
  replicasPerMaster?: number;
  /**
   * Parent of the node dirs (`node-1` … `node-N`). Defaults to a fresh temporary dir that
   * dispose() removes. A fixed dir (`.data/cluster`) is kept, and a cluster already created there
   * is started again as it was: on the ports its nodes.conf files name, with its data.
   */
  dir?: string;
  /**
   * cluster-node-timeout: how long a master may be unreachable before its replica takes over.
   * Default 1000 ms, so a failover takes a couple of seconds; Redis's own 15 s suits real networks.
   */
  nodeTimeoutMs?: number;
  /** Default true, as for startRedisServer. */
  appendOnly?: boolean;
  /** More `--name value` arguments for every node, appended last so they win. */
  extraArgs?: string[];
  /** Bound on the whole start: processes, `--cluster create`, every node agreeing. Default 30 s. */
  startTimeoutMs?: number;
  /** Run every node in its own process group (see {@link RedisServerOptions.detached}). */
  detached?: boolean;
}

export interface ClusterNodeAddress {
  host: string;
  port: number;
}

export interface FailoverOutcome {
  /** The replica that took over the killed master's slots. */
  promoted: ClusterNodeInfo;
  /** From kill() until every live node agreed on the new master (measured by polling every 100 ms). */
  afterMs: number;
}

export interface SlotMove {
  /** Keys migrated. */
  keys: number;
  /** From the first CLUSTER SETSLOT to the last. */
  afterMs: number;
}

export interface RedisClusterHandle {
  /** Every node, as ioredis `new Cluster(seeds)` takes them. */
  readonly seeds: readonly ClusterNodeAddress[];
  readonly ports: readonly number[];
  readonly dir: string;
  /** CLUSTER NODES as the first live node that answers sees it: ids, ports, roles, slots. */
  topology(): Promise<ClusterNodeInfo[]>;
  /** The master serving the slot of `key` (a key or a shard channel) now. */
  masterOf(key: string): Promise<ClusterNodeInfo>;
  /** SIGKILL (default: whatever was not replicated is lost) or SIGTERM one node. */
  kill(port: number, signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts a killed node again on its port and dir; it rejoins (a replaced master as a replica). */
  restart(port: number): Promise<void>;
  /**
   * Resolves once every live node says cluster_state:ok, knows every node, sees each of the 16384
   * slots served by a live master, and each live replica's link to its master is up.
   */
  waitForHealthy(timeoutMs?: number): Promise<void>;
  /** After kill() of a master: resolves once a replica has its slots and the cluster is healthy. */
  waitForFailover(port: number, timeoutMs?: number): Promise<FailoverOutcome>;
  /**
   * Moves one slot to the master on `toPort` while clients keep using it, as `redis-cli --cluster
   * reshard` does: IMPORTING/MIGRATING, then MIGRATE `keysPerStep` keys at a time (pausing
   * `pauseMs` between steps, so traffic meets the slot half-moved), then SETSLOT NODE on every master.
   * A key the target already holds (BUSYKEY: written there, through ASK, while the slot was
   * half-moved, e.g. a drain's delivery header) is replaced when both copies hold the same value,
   * as redis-cli does after comparing them, and fails the move otherwise.
   */
  moveSlot(slot: number, toPort: number, options?: { keysPerStep?: number; pauseMs?: number }): Promise<SlotMove>;
  /** The pid of the node's current redis-server process. */
  pid(port: number): number | undefined;
  /** stdout+stderr of one node (Redis logs there), for a failing test's report. */
  output(port: number): string;
  /** Stops every node (SIGTERM, then SIGKILL), then removes the dir if it was a temporary one. Idempotent. */
  dispose(): Promise<void>;
}

const HOST = '127.0.0.1';
const POLL_INTERVAL_MS = 100;
const ASK_TIMEOUT_MS = 1_000;
const DEFAULT_WAIT_MS = 15_000;

function endpoint(port: number): ClusterNodeAddress {
  return { host: HOST, port };
}

/** A text or integer reply as text; undefined when the node did not answer (or answered an error). */
async function ask(port: number, command: string, ...args: string[]): Promise<string | undefined> {
  const reply = await askRedis(endpoint(port), ASK_TIMEOUT_MS, command, ...args);
  return typeof reply === 'string' || typeof reply === 'number' ? String(reply) : undefined;
}

/** Polls `problem` until it reports none; rejects with the last problem after `timeoutMs`. */
async function until(problem: () => Promise<string | undefined>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await problem();
    if (found === undefined) return;
    if (Date.now() >= deadline) throw new Error(`${what} not reached within ${timeoutMs} ms: ${found}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** What keeps the node on `port` from being part of a healthy cluster, as it sees it; undefined when nothing. */
async function nodeProblem(port: number, live: ReadonlySet<number>, nodeCount: number): Promise<string | undefined> {
  const [infoText, nodesText] = await Promise.all([ask(port, 'CLUSTER', 'INFO'), ask(port, 'CLUSTER', 'NODES')]);
  if (infoText === undefined || nodesText === undefined) return `${port} does not answer CLUSTER INFO/NODES`;
  const info = parseInfoFields(infoText);
  if (info.get('cluster_state') !== 'ok') return `${port} says cluster_state:${info.get('cluster_state')}`;
  if (info.get('cluster_known_nodes') !== String(nodeCount)) {
    return `${port} knows ${info.get('cluster_known_nodes')} of ${nodeCount} nodes`;
  }
  const view = parseClusterNodes(nodesText);
  // A node's view lags behind a kill by cluster-node-timeout; until then it still counts the dead master.
  const served = view
    .filter((node) => node.role === 'master' && !node.failing && live.has(node.port))
    .reduce((sum, node) => sum + slotCount(node), 0);
  if (served !== CLUSTER_SLOTS) return `${port} sees ${served} of ${CLUSTER_SLOTS} slots served by live masters`;
  // A killed master that comes back is a master without slots until it hears it was replaced.
  const idle = view.find((node) => node.role === 'master' && live.has(node.port) && slotCount(node) === 0);
  if (idle) return `${port} sees ${idle.port} as a master without slots`;
  const myself = view.find((node) => node.myself);
  if (myself?.role === 'replica') {
    // A replica that never synced is too stale to be promoted, and a failover test would then hang.
    const replication = parseInfoFields((await ask(port, 'INFO', 'replication')) ?? '');
    if (replication.get('master_link_status') !== 'up') return `replica ${port} has no link to its master yet`;
  }
  return undefined;
}

/** The port a node dir's nodes.conf says it had, so a kept cluster comes back where its peers expect it. */
async function previousPort(nodeDir: string): Promise<number | undefined> {
  const text = await readFile(join(nodeDir, 'nodes.conf'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseClusterNodes(text).find((node) => node.myself)?.port;
}

function clusterArgs(nodeTimeoutMs: number, extraArgs: string[]): string[] {
  return [
    '--cluster-enabled', 'yes',
    '--cluster-config-file', 'nodes.conf',
    '--cluster-node-timeout', String(nodeTimeoutMs),
    // Nodes gossip this address to each other and hand it to clients in MOVED and CLUSTER SLOTS.
    '--cluster-announce-ip', HOST,
    // The default waits 5 s for more replicas to share one full sync; each master here has its
    // replicas attach at once, so the wait only delays start-up and a restarted node's rejoin.
    '--repl-diskless-sync-delay', '0',
    ...extraArgs,
  ];
}

async function startNodes(
  dirs: string[],
  options: RedisClusterOptions,
  startTimeoutMs: number,
): Promise<RedisServerHandle[]> {
  const args = clusterArgs(options.nodeTimeoutMs ?? 1_000, options.extraArgs ?? []);
  const started = await Promise.allSettled(
    dirs.map(async (dir) => {
      const port = await previousPort(dir);
      return startRedisServer({
        dir,
        ...(port === undefined ? { pickPort: freeClusterPort } : { port }),
        appendOnly: options.appendOnly ?? true,
        extraArgs: args,
        startTimeoutMs,
        detached: options.detached ?? false,
      });
    }),
  );
  const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(servers.map((server) => server.dispose()));
    throw failure.reason;
  }
  return servers;
}

/** Whether the nodes still have to be joined: true when fresh, false when nodes.conf brought back a whole cluster. */
async function needsCreate(ports: number[], dir: string): Promise<boolean> {
  const known = await Promise.all(
    ports.map(async (port) => parseInfoFields((await ask(port, 'CLUSTER', 'INFO')) ?? '').get('cluster_known_nodes')),
  );
  if (known.every((count) => count === '1')) return true;
  if (known.every((count) => count === String(ports.length))) return false;
  throw new Error(
    `${dir} holds a cluster that is not made of exactly these ${ports.length} nodes (known nodes per node: ${known.join(', ')}); remove it to start afresh`,
  );
}

/**
 * Starts a private Redis Cluster from `redis-server` on PATH, every node on 127.0.0.1 and a free
 * port (cluster bus: port + 10000), joins it with `redis-cli --cluster create`, and resolves once
 * every node agrees it is healthy. Nothing is left running if it fails; a crashed test process
 * takes its nodes with it (process-reaper).
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 1;
  if (!Number.isInteger(masters) || masters < 3) throw new Error(`a cluster needs at least 3 masters, not ${masters}`);
  if (!Number.isInteger(replicasPerMaster) || replicasPerMaster < 0) {
    throw new Error(`replicasPerMaster must be a whole number, not ${replicasPerMaster}`);
  }
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + startTimeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());

  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'chat-redis-cluster-')));
  const nodeDirs = Array.from({ length: masters * (1 + replicasPerMaster) }, (_, index) => join(dir, `node-${index + 1}`));
  await Promise.all(nodeDirs.map((nodeDir) => mkdir(nodeDir, { recursive: true })));

  let servers: RedisServerHandle[] = [];
  const removeDir = () => (ownsDir ? rm(dir, { recursive: true, force: true }) : Promise.resolve());
  try {
    servers = await startNodes(nodeDirs, options, remaining());
  } catch (error) {
    await removeDir();
    throw error;
  }
  const byPort = new Map(servers.map((server) => [server.port, server]));
  const ports = servers.map((server) => server.port);
  const live = new Set(ports);
  // What the cluster looked like just before each kill, and when: waitForFailover's reference.
  const killed = new Map<number, { before: ClusterNodeInfo[]; at: number }>();

  function serverAt(port: number): RedisServerHandle {
    const server = byPort.get(port);
    if (!server) throw new Error(`no node of this cluster listens on ${port} (nodes: ${ports.join(', ')})`);
    return server;
  }

  /** The reply of the first live node that answers: any node can say what the cluster looks like. */
  async function askAnyLiveNode(command: string, ...args: string[]): Promise<string> {
    for (const port of live) {
      const reply = await ask(port, command, ...args);
      if (reply !== undefined) return reply;
    }
    throw new Error(`no live node of the cluster answers ${command} ${args.join(' ')} (live: ${[...live].join(', ') || 'none'})`);
  }

  async function topology(): Promise<ClusterNodeInfo[]> {
    return parseClusterNodes(await askAnyLiveNode('CLUSTER', 'NODES'));
  }

  async function waitForHealthy(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await until(
      async () => {
        const problems = await Promise.all([...live].map((port) => nodeProblem(port, live, ports.length)));
        return problems.find((problem) => problem !== undefined);
      },
      'a healthy cluster',
      timeoutMs,
    );
  }

  let disposing: Promise<void> | undefined;
  const handle: RedisClusterHandle = {
    seeds: ports.map(endpoint),
    ports,
    dir,
    topology,
    async masterOf(key) {
      const slot = Number(await askAnyLiveNode('CLUSTER', 'KEYSLOT', key));
      const master = (await topology()).find((node) => node.role === 'master' && servesSlot(node, slot));
      if (!master) throw new Error(`no master serves slot ${slot} (of ${JSON.stringify(key)}) right now`);
      return master;
    },
    async kill(port, signal = 'SIGKILL') {
      const server = serverAt(port);
      killed.set(port, { before: await topology(), at: Date.now() });
      live.delete(port);
      await (signal === 'SIGKILL' ? server.kill() : server.stop());
    },
    async restart(port) {
      await serverAt(port).restart();
      live.add(port);
    },
    waitForHealthy,
    async waitForFailover(port, timeoutMs = DEFAULT_WAIT_MS) {
      const kill = killed.get(port);
      const old = kill?.before.find((node) => node.port === port);
      const firstSlot = old?.slots[0]?.[0];
      if (!kill || old?.role !== 'master' || firstSlot === undefined || live.has(port)) {
        throw new Error(`waitForFailover(${port}) needs a master that kill() stopped and that is still down`);
      }
      await waitForHealthy(timeoutMs);
      const afterMs = Date.now() - kill.at;
      const promoted = (await topology()).find((node) => node.role === 'master' && servesSlot(node, firstSlot));
      if (!promoted) throw new Error(`after the failover of ${port}, no master serves slot ${firstSlot}`);
      return { promoted, afterMs };
    },
    async moveSlot(slot, toPort, options = {}) {
      const nodes = await topology();
      const source = nodes.find((node) => node.role === 'master' && servesSlot(node, slot));
      const target = nodes.find((node) => node.port === toPort && node.role === 'master');
      if (!source || !target) throw new Error(`moveSlot(${slot}, ${toPort}): no master serves the slot, or ${toPort} is not a master`);
      if (source.port === toPort) return { keys: 0, afterMs: 0 };
      const masters = nodes.filter((node) => node.role === 'master' && !node.failing);
      const connections = new Map(masters.map((node) => [node.port, new Redis({ host: HOST, port: node.port, maxRetriesPerRequest: 0, retryStrategy: () => null })]));
      const on = (port: number) => connections.get(port) as Redis;
      const migrate = async (keys: string[]) => {
        try {
          await on(source.port).call('MIGRATE', HOST, String(toPort), '', '0', '5000', 'KEYS', ...keys);
        } catch (error) {
          if (!(error instanceof Error) || !error.message.includes('BUSYKEY')) throw error;
          // Those the source still holds: the keys MIGRATE copied are gone from it.
          const count = Number(await on(source.port).call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)));
          const inSlot = new Set((await on(source.port).call('CLUSTER', 'GETKEYSINSLOT', String(slot), String(count))) as string[]);
          const left = keys.filter((key) => inSlot.has(key));
          for (const key of left) {
            const [asked, theirs] = (await on(toPort).pipeline().call('ASKING').dumpBuffer(key).exec()) ?? [];
            if (asked?.[0] || theirs?.[0]) throw asked?.[0] ?? theirs?.[0];
            const ours = await on(source.port).dumpBuffer(key);
            if (theirs?.[1] && !(ours && ours.equals(theirs[1] as Buffer))) {
              throw new Error(`moveSlot(${slot}, ${toPort}): ${key} is on both nodes with different values`, { cause: error });
            }
          }
          if (left.length > 0) await on(source.port).call('MIGRATE', HOST, String(toPort), '', '0', '5000', 'REPLACE', 'KEYS', ...left);
        }
      };
      const started = Date.now();
      let moved = 0;
      try {
        await on(toPort).call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', source.id);
        await on(source.port).call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', target.id);
        for (;;) {
          const keys = (await on(source.port).call('CLUSTER', 'GETKEYSINSLOT', String(slot), String(options.keysPerStep ?? 10))) as string[];
          if (keys.length === 0) break;
          await migrate(keys);
          moved += keys.length;
          if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
        }
        // The target first, then the source, then the others, as redis-cli does.
        for (const port of [toPort, source.port, ...masters.map((node) => node.port).filter((port) => port !== toPort && port !== source.port)]) {
          await on(port).call('CLUSTER', 'SETSLOT', String(slot), 'NODE', target.id);
        }
      } finally {
        for (const connection of connections.values()) connection.disconnect();
      }
      return { keys: moved, afterMs: Date.now() - started };
    },
    pid: (port) => serverAt(port).pid,
    output: (port) => serverAt(port).output(),
    dispose() {
      disposing ??= (async () => {
        await Promise.all(servers.map((server) => server.stop()));
        await removeDir();
      })();
      return disposing;
    },
  };

  try {
    if (await needsCreate(ports, dir)) {
      await runRedisCli(
        [
          '--cluster', 'create',
          ...ports.map((port) => `${HOST}:${port}`),
          '--cluster-replicas', String(replicasPerMaster),
          '--cluster-yes',
        ],
        remaining(),
      );
    }
    await waitForHealthy(remaining());
  } catch (error) {
    await handle.dispose();
    throw error;
  }
  return handle;
}
