/** HTTP GET for probing workloads from the controller (root namespace), on the live side's one GET (../http.ts). */
import { ConmigError } from '../../model/errors.ts';
import { httpRequest, type HttpAnswer } from '../http.ts';

export type HttpReply = HttpAnswer;

/** GET; a network error or timeout is NODE_UNREACHABLE naming the URL. */
export async function httpGet(host: string, port: number, path: string, timeoutMs = 5000): Promise<HttpReply> {
  try {
    return await httpRequest(host, port, path, timeoutMs);
  } catch (e) {
    throw new ConmigError('NODE_UNREACHABLE', `GET http://${host}:${port}${path} failed: ${(e as Error).message}`, { cause: e });
  }
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
