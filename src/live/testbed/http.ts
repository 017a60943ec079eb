/** Minimal HTTP GET for probing workloads from the controller (root namespace). */
import { request } from 'node:http';
import { ConmigError } from '../../model/errors.ts';

export interface HttpReply {
  status: number;
  body: string;
  elapsedMs: number;
}

export function httpGet(host: string, port: number, path: string, timeoutMs = 5000): Promise<HttpReply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, elapsedMs: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', (e) =>
      reject(new ConmigError('NODE_UNREACHABLE', `GET http://${host}:${port}${path} failed: ${e.message}`, { cause: e })),
    );
    req.end();
  });
}

export async function httpGetJson<T>(host: string, port: number, path: string, timeoutMs = 5000): Promise<T> {
  const r = await httpGet(host, port, path, timeoutMs);
  if (r.status !== 200) {
    throw new ConmigError('COMMAND_FAILED', `GET http://${host}:${port}${path} answered ${r.status}`, { context: { body: r.body } });
  }
  return JSON.parse(r.body) as T;
}

/** Poll until GET answers 200 or the time is up. */
export async function waitHttp(host: string, port: number, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await httpGet(host, port, path, 1000);
      if (r.status === 200) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ConmigError('TESTBED_FAILED', `http://${host}:${port}${path} not answering after ${timeoutMs} ms`, { context: { last } });
}
