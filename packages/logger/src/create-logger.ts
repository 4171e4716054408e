import { pino, type Logger, type LoggerOptions } from 'pino';
import type { ProcessIdentity } from './process-identity.js';

export type { Logger } from 'pino';

/** Anything that could carry a credential, wherever it appears in a log object. */
export const REDACTED_PATHS = [
  'password',
  'token',
  'secret',
  '*.password',
  '*.token',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'req.query.token',
];

export interface LoggerSettings {
  level: string;
  /** Human-readable output; defaults to "stdout is a terminal". */
  pretty?: boolean;
}

export function createLogger(identity: ProcessIdentity, settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: identity.service, instance: identity.instance },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const pretty = settings.pretty ?? process.stdout.isTTY === true;
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(options);
}
