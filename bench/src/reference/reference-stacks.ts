import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from '@chat/devstack';

export const STACKS = ['floor', 'socketio'] as const;
export type StackName = (typeof STACKS)[number];

export interface ReferenceProcess {
  name: string;
  child: ChildProcess;
  port: number;
}

/** The processes of a reference stack, and where the generator posts and connects. */
export interface ReferenceStack {
  processes: ReferenceProcess[];
  /** Posts go to these in turn (round robin, as a load balancer would). */
  postPorts: number[];
  /** User i's socket goes to socketPorts[i mod length]. */
  socketPorts: number[];
}

const START_TIMEOUT_MS = 15_000;

async function startProcess(file: string, name: string, env: Record<string, string>, profileDir: string | undefined): Promise<ReferenceProcess> {
  const port = await freePort();
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), {
    execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    env: { ...process.env, ...env, FLOOR_PORT: String(port), NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const listening = once(child, 'message');
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${name} did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS).unref());
  await Promise.race([listening, timeout]);
  return { name, child, port };
}

/**
 * Starts `stack` on `redisUrl` with `replicas` socket-holding processes. Each process is pushed to
 * `started` as soon as it runs, so a caller can stop what started even when a later one fails.
 */
export async function startReferenceStack(
  stack: StackName,
  options: { redisUrl: string; replicas: number; profileDir: string | undefined; started: ReferenceProcess[] },
): Promise<ReferenceStack> {
  const env = { FLOOR_REDIS_URL: options.redisUrl };
  const start = async (file: string, name: string) => {
    const started = await startProcess(file, name, env, options.profileDir);
    options.started.push(started);
    return started;
  };
  if (stack === 'floor') {
    const api = await start('./floor-api.ts', 'api');
    const fanouts: ReferenceProcess[] = [];
    for (let i = 0; i < options.replicas; i += 1) fanouts.push(await start('./floor-fanout.ts', `fanout-${i}`));
    return { processes: [api, ...fanouts], postPorts: [api.port], socketPorts: fanouts.map((fanout) => fanout.port) };
  }
  const peers: ReferenceProcess[] = [];
  for (let i = 0; i < options.replicas; i += 1) peers.push(await start('./socketio-peer.ts', `peer-${i}`));
  const ports = peers.map((peer) => peer.port);
  return { processes: peers, postPorts: ports, socketPorts: ports };
}
