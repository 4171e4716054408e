import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutputBuffer, freePort, renderNginxConfig, waitForExit, type ExitStatus, type OutputBuffer } from '@chat/devstack';
import type { Stack } from './stack.js';

/**
 * The real nginx edge for tests, from the template docker compose ships
 * (deploy/nginx/nginx.conf.template), in front of a test stack's api and gateway replicas.
 */

export const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export function nginxInstalled(): boolean {
  try {
    accessSync(NGINX, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface NginxEdge {
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT/ws */
  wsUrl: string;
  dir: string;
  accessLogPath: string;
  errorLogPath: string;
  /** nginx's own output and its error log, for a failing test's message. */
  describe(): string;
  /** Graceful stop (SIGQUIT lets workers finish; open sockets should be closed first), SIGKILL after a bound. */
  stop(): Promise<void>;
}

interface NginxProcess {
  child: ChildProcess;
  output: OutputBuffer;
  exited: Promise<ExitStatus>;
}

function spawnNginx(args: string[]): NginxProcess {
  const child = spawn(NGINX, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = createOutputBuffer();
  child.stdout?.on('data', (chunk: Buffer) => output.append(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.append(chunk));
  return { child, output, exited: waitForExit(child) };
}

/** `http://127.0.0.1:1234` → `127.0.0.1:1234`, the form an upstream server line takes. */
const hostPort = (url: string) => new URL(url).host;

/**
 * Renders the template for `stack`, checks it with `nginx -t`, runs nginx in the foreground in a
 * temporary prefix and resolves once /healthz answers 200 through it.
 */
export async function startNginxEdge(stack: Stack, options: { webRoot?: string } = {}): Promise<NginxEdge> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-nginx-'));
  // Run as root, nginx's workers run as nobody: they must be able to reach their temp dirs here.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const errorLogPath = join(dir, 'error.log');
  const accessLogPath = join(dir, 'access.log');
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(
    configPath,
    renderNginxConfig({
      listenPort: port,
      apiServers: [hostPort(stack.apiUrl)],
      gatewayServers: stack.gatewayUrls.map(hostPort),
      pidFile: join(dir, 'nginx.pid'),
      tempDir: dir,
      errorLog: errorLogPath,
      accessLog: accessLogPath,
      ...(options.webRoot ? { webRoot: options.webRoot } : {}),
    }),
  );
  const baseArgs = ['-c', configPath, '-p', dir, '-e', errorLogPath];

  const check = spawnNginx([...baseArgs, '-t']);
  const checked = await check.exited;
  if (checked.code !== 0) throw new Error(`nginx -t refused the rendered config:\n${check.output.text()}`);

  const nginx = spawnNginx([...baseArgs, '-g', 'daemon off;']);
  const describe = () =>
    [
      `----- nginx output -----\n${nginx.output.text()}`,
      `----- ${errorLogPath} -----\n${existsSync(errorLogPath) ? readFileSync(errorLogPath, 'utf8') : '(none)'}`,
    ].join('\n');

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    if (nginx.child.exitCode === null && nginx.child.signalCode === null) {
      nginx.child.kill('SIGQUIT');
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
      });
      const outcome = await Promise.race([nginx.exited, gaveUp]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        nginx.child.kill('SIGKILL');
        await nginx.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }

  let exited: ExitStatus | undefined;
  void nginx.exited.then((status) => {
    exited = status;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = 'no answer yet';
  for (;;) {
    if (exited) throw new Error(`nginx exited during start-up (${JSON.stringify(exited)}):\n${describe()}`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
      lastError = `status ${response.status}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      await stop();
      throw new Error(`the edge did not answer 200 on ${url}/healthz within ${START_TIMEOUT_MS} ms (${lastError}):\n${describe()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    dir,
    accessLogPath,
    errorLogPath,
    describe,
    stop: () => (stopping ??= stop()),
  };
}
