/**
 * How an emulated user's request reaches its container and picks up the
 * access + backhaul latency of the user's position (docs/live-mode.md):
 *
 *  - RelayAccess (local testbed, inventory has `relay`): one relay route per
 *    user (listen port RELAY_USER_BASE_PORT + user index on the relay's
 *    address). Before each request the route is pointed at the container's
 *    current node and its delay set to the model RTT, if either changed; the
 *    relay holds each chunk for delay/2 per direction. The client connects
 *    to the same relay port all along, like a client that re-resolves the
 *    service address.
 *  - InClientAccess (no relay, e.g. ORBIT without netem): the client holds
 *    the request for RTT/2 before sending it straight to the node and the
 *    answer for RTT/2 before accepting it.
 *
 * Both send a real HTTP GET over a fresh TCP connection per attempt.
 */
import { httpRequest } from '../http.ts';
import { Teardown } from '../teardown.ts';
import { performance } from 'node:perf_hooks';
import { ConmigError } from '../../model/errors.ts';
import type { InventoryRelay } from '../inventory.ts';
import { relayControl } from '../testbed/relay.ts';
import { sleepWallMs } from './clock.ts';

/** First relay port used for per-user routes (the testbed's per-node routes use 18001..). */
export const RELAY_USER_BASE_PORT = 19000;

export interface Endpoint {
  node: string;
  address: string;
  port: number;
}

export interface AttemptResult {
  status: number;
  body: string;
  /** Emulated RTT actually applied to this attempt (ms). */
  emulatedMs: number;
}

export interface AccessPath {
  readonly kind: 'relay' | 'in-client';
  /** Prepare routes (relay: add one per user). */
  open(users: number, initial: (u: number) => { to: Endpoint; rttMs: number }): Promise<void>;
  /** One HTTP GET for user u to `to`, with the emulated RTT `rttMs`. Rejects on network errors, timeout or abort. */
  request(u: number, to: Endpoint, rttMs: number, path: string, timeoutWallMs: number, signal: AbortSignal): Promise<AttemptResult>;
  close(): Promise<void>;
}

export async function httpAttempt(host: string, port: number, path: string, timeoutWallMs: number, signal: AbortSignal): Promise<{ status: number; body: string }> {
  const { status, body } = await httpRequest(host, port, path, timeoutWallMs, signal);
  return { status, body };
}

export class InClientAccess implements AccessPath {
  readonly kind = 'in-client' as const;
  async open(): Promise<void> {}
  async request(_u: number, to: Endpoint, rttMs: number, path: string, timeoutWallMs: number, signal: AbortSignal): Promise<AttemptResult> {
    const t0 = performance.now();
    await sleepWallMs(rttMs / 2, signal);
    const left = Math.max(1, timeoutWallMs - (performance.now() - t0));
    const r = await httpAttempt(to.address, to.port, path, left, signal);
    await sleepWallMs(rttMs / 2, signal);
    if (signal.aborted) throw new ConmigError('INTERRUPTED', 'request aborted');
    return { ...r, emulatedMs: rttMs };
  }
  async close(): Promise<void> {}
}

interface RouteState {
  target: string;
  delayMs: number;
}

export class RelayAccess implements AccessPath {
  readonly kind = 'relay' as const;
  private readonly routes = new Map<number, RouteState>();
  /** Per user: the pending control update (serialised so routes never go out of order). */
  private readonly pending = new Map<number, Promise<void>>();
  /** Only re-set a delay that moved by more than this (ms): the relay's own error is ~1 ms. */
  readonly delayResolutionMs: number;
  controlCalls = 0;

  constructor(
    private readonly relay: InventoryRelay,
    opts: { delayResolutionMs?: number } = {},
  ) {
    this.delayResolutionMs = opts.delayResolutionMs ?? 0.25;
  }

  portOf(u: number): number {
    return RELAY_USER_BASE_PORT + u;
  }

  async open(users: number, initial: (u: number) => { to: Endpoint; rttMs: number }): Promise<void> {
    const sock = this.relay.controlSocket;
    const existing = new Set(((await relayControl(sock, { op: 'get' })).routes ?? []).map((r) => r.listenPort));
    for (let u = 0; u < users; u++) {
      const { to, rttMs } = initial(u);
      const port = this.portOf(u);
      if (existing.has(port)) await relayControl(sock, { op: 'remove', listenPort: port });
      const target = `${to.address}:${to.port}`;
      await relayControl(sock, { op: 'add', listenPort: port, target, delayMs: rttMs, node: to.node });
      this.controlCalls += 1;
      this.routes.set(u, { target, delayMs: rttMs });
    }
  }

  /** Point user u's route at `to` with delay rttMs (only what changed; updates per user in order). */
  private update(u: number, to: Endpoint, rttMs: number): Promise<void> {
    const prev = this.pending.get(u) ?? Promise.resolve();
    const next = prev.then(async () => {
      const r = this.routes.get(u);
      if (!r) throw new ConmigError('TESTBED_FAILED', `no relay route for user index ${u}`);
      const target = `${to.address}:${to.port}`;
      const moveTarget = r.target !== target;
      const moveDelay = Math.abs(r.delayMs - rttMs) > this.delayResolutionMs;
      if (!moveTarget && !moveDelay) return;
      await relayControl(this.relay.controlSocket, {
        op: 'set',
        listenPort: this.portOf(u),
        ...(moveTarget ? { target, node: to.node } : {}),
        delayMs: rttMs,
      });
      this.controlCalls += 1;
      r.target = target;
      r.delayMs = rttMs;
    });
    this.pending.set(u, next.catch(() => undefined));
    return next;
  }

  async request(u: number, to: Endpoint, rttMs: number, path: string, timeoutWallMs: number, signal: AbortSignal): Promise<AttemptResult> {
    await this.update(u, to, rttMs);
    const applied = this.routes.get(u)?.delayMs ?? rttMs;
    const r = await httpAttempt(this.relay.address, this.portOf(u), path, timeoutWallMs, signal);
    return { ...r, emulatedMs: applied };
  }

  /** Remove every route; all are tried, and those that could not be removed are listed in one error. */
  async close(): Promise<void> {
    const teardown = new Teardown();
    for (const u of this.routes.keys()) {
      const listenPort = this.portOf(u);
      await teardown.attempt(`relay route :${listenPort}`, () => relayControl(this.relay.controlSocket, { op: 'remove', listenPort }));
    }
    this.routes.clear();
    if (teardown.errors.length > 0) {
      throw new ConmigError('TESTBED_FAILED', `could not remove ${teardown.errors.length} relay route(s)`, { context: { errors: teardown.errors } });
    }
  }
}
