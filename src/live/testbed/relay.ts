/**
 * User-space access-latency element (the kernel here has no netem): a TCP relay
 * that runs in the `cm-users` namespace, listens on 10.77.0.2:<port per route>
 * and forwards to <node>:<port>, holding every chunk for delayMs/2 in each
 * direction with a timer queue that keeps order. So a request/response pair
 * sees about delayMs more round-trip time than the direct path; connection
 * setup to the relay itself is not delayed (see docs/testbed.md, accuracy).
 *
 * Run-time control: a Unix socket (path in the inventory, `relay.controlSocket`)
 * speaking one JSON object per line; each request gets one JSON line back:
 *   {"op":"get"}                                          -> {"ok":true,"routes":[...]}
 *   {"op":"set","listenPort":18001,"delayMs":20}          -> new delay, applies to new chunks at once
 *   {"op":"set","listenPort":18001,"target":"10.77.0.12:8080"}  -> new connections go there
 *   {"op":"add","listenPort":18100,"target":"10.77.0.11:8080","delayMs":30}  -> a new route (e.g. per user)
 *   {"op":"remove","listenPort":18100}
 * `relayControl(socketPath, request)` below is the client.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { ConmigError } from '../../model/errors.ts';

export interface RelayRoute {
  listenPort: number;
  node: string;
  targetHost: string;
  targetPort: number;
  delayMs: number;
}

export interface RelayRequest {
  op: 'get' | 'set' | 'add' | 'remove';
  listenPort?: number;
  delayMs?: number;
  target?: string;
  node?: string;
}

export interface RelayReply {
  ok: boolean;
  error?: string;
  routes?: RelayRoute[];
}

/**
 * Node timers fire 0..~1.5 ms late (1 ms granularity); a chunk is released when
 * due within EARLY_MS and timers are armed with the fraction cut off, which
 * centres the error near zero instead of always late (measured: docs/testbed.md).
 */
const EARLY_MS = 0.6;
const wait = (dueMs: number): number => Math.max(0, Math.floor(dueMs - performance.now() - EARLY_MS));

/** Forward src -> dst, each chunk held for delayMs() ms, in order; backpressure by pausing src. */
function delayedPipe(src: Socket, dst: Socket, delayMs: () => number): void {
  const queue: { dueMs: number; data: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lastDue = 0;
  let queuedBytes = 0;
  let ended = false;
  const HIGH_WATER = 8 << 20;
  const flush = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0].dueMs <= now + EARLY_MS) {
      const item = queue.shift()!;
      queuedBytes -= item.data.length;
      if (!dst.destroyed) dst.write(item.data);
    }
    if (queuedBytes < HIGH_WATER && src.isPaused()) src.resume();
    if (queue.length > 0) timer = setTimeout(flush, wait(queue[0].dueMs));
    else if (ended && !dst.destroyed) dst.end();
  };
  src.on('data', (data: Buffer) => {
    const d = delayMs();
    if (d <= 0 && queue.length === 0) {
      dst.write(data);
      return;
    }
    const due = Math.max(performance.now() + d, lastDue);
    lastDue = due;
    queue.push({ dueMs: due, data });
    queuedBytes += data.length;
    if (queuedBytes >= HIGH_WATER) src.pause();
    if (!timer) timer = setTimeout(flush, wait(queue[0].dueMs));
  });
  src.on('end', () => {
    ended = true;
    if (queue.length === 0 && !dst.destroyed) dst.end();
  });
}

export class Relay {
  private readonly routes = new Map<number, { route: RelayRoute; server: Server }>();
  private readonly sockets = new Set<Socket>();

  constructor(private readonly listenHost: string) {}

  async add(route: RelayRoute): Promise<void> {
    if (this.routes.has(route.listenPort)) throw new Error(`route ${route.listenPort} exists`);
    const entry = { route: { ...route }, server: createServer() };
    entry.server.on('connection', (client: Socket) => {
      const r = entry.route;
      client.setNoDelay(true);
      const upstream = createConnection({ host: r.targetHost, port: r.targetPort });
      upstream.setNoDelay(true);
      this.sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      // A clean close travels as 'end' through delayedPipe (after the queued data);
      // only errors tear both sides down at once.
      client.on('error', drop).on('close', () => this.sockets.delete(client));
      upstream.on('error', drop).on('close', () => this.sockets.delete(upstream));
      const half = (): number => entry.route.delayMs / 2;
      delayedPipe(client, upstream, half);
      delayedPipe(upstream, client, half);
    });
    await new Promise<void>((resolve, reject) => {
      entry.server.once('error', reject);
      entry.server.listen(route.listenPort, this.listenHost, () => resolve());
    });
    this.routes.set(route.listenPort, entry);
  }

  list(): RelayRoute[] {
    return [...this.routes.values()].map((e) => ({ ...e.route }));
  }

  async handle(req: RelayRequest): Promise<RelayReply> {
    try {
      if (req.op === 'get') return { ok: true, routes: this.list() };
      const port = req.listenPort;
      if (typeof port !== 'number') return { ok: false, error: 'listenPort is required' };
      const target = req.target?.split(':');
      if (req.delayMs !== undefined && !(req.delayMs >= 0)) return { ok: false, error: 'delayMs must be >= 0' };
      if (req.op === 'add') {
        if (!target || target.length !== 2) return { ok: false, error: 'target "host:port" is required' };
        await this.add({ listenPort: port, node: req.node ?? target[0], targetHost: target[0], targetPort: Number(target[1]),
          delayMs: req.delayMs ?? 0 });
        return { ok: true, routes: this.list() };
      }
      const e = this.routes.get(port);
      if (!e) return { ok: false, error: `no route on port ${port}` };
      if (req.op === 'remove') {
        e.server.close();
        this.routes.delete(port);
        return { ok: true, routes: this.list() };
      }
      if (req.delayMs !== undefined) e.route.delayMs = req.delayMs;
      if (target) {
        if (target.length !== 2) return { ok: false, error: 'target must be "host:port"' };
        e.route.targetHost = target[0];
        e.route.targetPort = Number(target[1]);
        if (req.node) e.route.node = req.node;
      }
      return { ok: true, routes: this.list() };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }

  close(): void {
    for (const e of this.routes.values()) e.server.close();
    for (const s of this.sockets) s.destroy();
  }
}

/** Serve the control protocol on a Unix socket. */
export function serveControl(relay: Relay, socketPath: string): Promise<Server> {
  const server = createServer((conn) => {
    let buf = '';
    conn.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let req: RelayRequest;
        try {
          req = JSON.parse(line) as RelayRequest;
        } catch {
          conn.write(JSON.stringify({ ok: false, error: 'not JSON' }) + '\n');
          continue;
        }
        void relay.handle(req).then((reply) => conn.write(JSON.stringify(reply) + '\n'));
      }
    });
    conn.on('error', () => conn.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

/** Client: send one request to a running relay and return its reply (throws TESTBED_FAILED). */
export function relayControl(socketPath: string, req: RelayRequest, timeoutMs = 3000): Promise<RelayReply> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socketPath);
    let buf = '';
    const fail = (msg: string, cause?: unknown): void => {
      c.destroy();
      reject(new ConmigError('TESTBED_FAILED', `relay control: ${msg}`, { context: { socket: socketPath, request: req }, cause }));
    };
    const timer = setTimeout(() => fail(`no answer in ${timeoutMs} ms`), timeoutMs);
    c.on('connect', () => c.write(JSON.stringify(req) + '\n'));
    c.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      c.end();
      const reply = JSON.parse(buf.slice(0, nl)) as RelayReply;
      if (!reply.ok) fail(reply.error ?? 'refused');
      else resolve(reply);
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      fail(e.message, e);
    });
  });
}
