/** The controller's check that a service answers: GET path with a fresh connection, 200 within a deadline. */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

function httpOk(host: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

/** True once `http://host:port/path` answers 200 (each try 1 s, every 20 ms), false after `timeoutMs`. */
export async function waitHealthy(host: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await httpOk(host, port, path, 1000)) return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
