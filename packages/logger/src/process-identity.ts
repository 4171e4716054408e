import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Who this process is, in every log line and metric: the host and a random id per process. */
export interface ProcessIdentity {
  service: string;
  host: string;
  instance: string;
}

export function createProcessIdentity(service: string): ProcessIdentity {
  const host = hostname();
  return { service, host, instance: `${host}-${randomBytes(3).toString('hex')}` };
}
