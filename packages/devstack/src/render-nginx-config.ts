import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { repoRoot } from './service-paths.js';

export interface NginxConfigOptions {
  /** Port the edge listens on. */
  listenPort: number;
  /** Interface the edge binds. Default 127.0.0.1, so a test edge is reachable from this machine only. */
  listenHost?: string;
  /** api instances as `host:port` (e.g. `127.0.0.1:3000`); at least one. */
  apiServers: readonly string[];
  /** Gateway replicas as `host:port`; at least one. WebSocket upgrades go to the least busy one. */
  gatewayServers: readonly string[];
  /** Absolute paths nginx writes to; all of them must be writable by the user running nginx. */
  pidFile: string;
  /** Directory under which nginx creates its temp directories (client_body, proxy, ...). */
  tempDir: string;
  errorLog: string;
  accessLog: string;
  /**
   * DNS server for server lines with `resolve`. The lines written here are plain `host:port` and
   * never consult it, so the default (127.0.0.1) only has to parse.
   */
  resolver?: string;
  /**
   * Absolute path of the directory served at / (the web client: `<repo>/web/public` after
   * `npm run build`). Default: none, a directory that does not exist, so every path outside the
   * api, /ws and the health routes is the contract's JSON 404.
   */
  webRoot?: string;
  /** Template to fill. Default: deploy/nginx/nginx.conf.template, the one docker compose uses. */
  templatePath?: string;
}

/**
 * How often a replica may fail (refused or timed-out connection) before nginx skips it, and for
 * how long. One failure is enough for a gateway: its clients reconnect, and a replica that refused
 * one connection is most likely gone. docker-compose.yml uses the same values.
 */
const API_SERVER_PARAMS = 'max_fails=3 fail_timeout=10s';
const GATEWAY_SERVER_PARAMS = 'max_fails=1 fail_timeout=10s';

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
/** Anything that could end or open a directive (whitespace, `;`, braces, quotes) or start a variable. */
const UNSAFE_IN_PATH = /[\s;{}'"$#\\]/;
const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

function defaultTemplatePath(): string {
  return join(repoRoot(), 'deploy', 'nginx', 'nginx.conf.template');
}

function serverLines(what: string, servers: readonly string[], params: string): string {
  if (servers.length === 0) throw new Error(`renderNginxConfig: ${what} needs at least one host:port`);
  return servers
    .map((server) => {
      if (!HOST_PORT.test(server)) throw new Error(`renderNginxConfig: ${what} entry ${JSON.stringify(server)} is not host:port`);
      return `server ${server} ${params};`;
    })
    .join(' ');
}

function safePath(what: string, path: string): string {
  if (path.length === 0 || UNSAFE_IN_PATH.test(path)) {
    throw new Error(`renderNginxConfig: ${what} ${JSON.stringify(path)} is empty or has a character nginx would misread`);
  }
  return path;
}

/**
 * Fills the edge's nginx.conf template with the given upstreams and paths and returns the config
 * text, ready for `nginx -c <file> -p <dir> -g 'daemon off;'`. Throws on a value that would break
 * the config and on a placeholder this function does not know (the template drifted from it).
 */
export function renderNginxConfig(options: NginxConfigOptions): string {
  if (!Number.isInteger(options.listenPort) || options.listenPort < 1 || options.listenPort > 65_535) {
    throw new Error(`renderNginxConfig: listenPort ${options.listenPort} is not a TCP port`);
  }
  const listenHost = options.listenHost ?? '127.0.0.1';
  const listen = `${listenHost}:${options.listenPort}`;
  if (!HOST_PORT.test(listen)) throw new Error(`renderNginxConfig: listenHost ${JSON.stringify(listenHost)} is not a host`);
  const resolver = options.resolver ?? '127.0.0.1';
  if (UNSAFE_IN_PATH.test(resolver) || resolver.length === 0) {
    throw new Error(`renderNginxConfig: resolver ${JSON.stringify(resolver)} is not an address`);
  }

  if (options.webRoot !== undefined && !isAbsolute(options.webRoot)) {
    throw new Error(`renderNginxConfig: webRoot ${JSON.stringify(options.webRoot)} must be an absolute path`);
  }
  const webRoot = options.webRoot ?? join(options.tempDir, 'no-web-root');

  const values: Record<string, string> = {
    EDGE_LISTEN: listen,
    EDGE_API_SERVERS: serverLines('apiServers', options.apiServers, API_SERVER_PARAMS),
    EDGE_GATEWAY_SERVERS: serverLines('gatewayServers', options.gatewayServers, GATEWAY_SERVER_PARAMS),
    EDGE_RESOLVER: resolver,
    EDGE_PID_FILE: safePath('pidFile', options.pidFile),
    EDGE_TEMP_DIR: safePath('tempDir', options.tempDir),
    EDGE_ERROR_LOG: safePath('errorLog', options.errorLog),
    EDGE_ACCESS_LOG: safePath('accessLog', options.accessLog),
    EDGE_WEB_ROOT: safePath('webRoot', webRoot),
  };

  const template = readFileSync(options.templatePath ?? defaultTemplatePath(), 'utf8');
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`renderNginxConfig: the template has an unknown placeholder \${${name}}`);
    return value;
  });
}
