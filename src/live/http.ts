/**
 * The one HTTP GET of the live side (users' requests, testbed probes, relay
 * measurements): no connection reuse (every request is a fresh connection,
 * as a probe of a restarting service must be), a timeout, an optional abort
 * signal. Network errors are passed on as they are: callers decide what a
 * refused or reset connection means.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { ConmigError } from '../model/errors.ts';

export interface HttpAnswer {
  status: number;
  body: string;
  /** Wall ms from sending to the end of the answer. */
  elapsedMs: number;
}

export function httpRequest(host: string, port: number, path: string, timeoutMs: number, signal?: AbortSignal): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ConmigError('INTERRUPTED', 'request aborted'));
      return;
    }
    const t0 = performance.now();
    const req = http.request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), elapsedMs: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Whether GET answers 200 within `timeoutMs` (never throws). */
export async function httpOk(host: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  try {
    return (await httpRequest(host, port, path, timeoutMs)).status === 200;
  } catch {
    return false;
  }
}
