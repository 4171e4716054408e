import { get as httpGet } from 'node:http';

/**
 * One GET without keep-alive: true when it answers 200 within `timeoutMs`. No keep-alive, so
 * polling leaves no idle socket that would delay the polled service's shutdown.
 */
export function answers200(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpGet(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy(new Error('health check timed out')));
    request.on('error', () => resolve(false));
  });
}
