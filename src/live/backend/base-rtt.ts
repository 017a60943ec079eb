/**
 * The base RTT of each user -> node path, measured once at pre-flight (the
 * live view adds it to the latency model's RTT, which is what the emulation
 * imposes on top):
 *
 *   base(S)    = median GET /health on a fresh connection (what every request costs
 *                besides the emulated delay and its service), through a relay route
 *                with 0 ms delay when there is a relay, on the node S running the container
 *   base(node) = base(S) + connect(node) - connect(S)
 *   connect(n) = median TCP connect time controller -> n:sshPort
 *
 * (The emulated users live in the controller process, so the controller's
 * path is the users' path, plus the relay hop on the local testbed.)
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { InventoryNode, InventoryRelay } from '../inventory.ts';
import { relayControl } from '../testbed/relay.ts';
import { httpAttempt } from './access.ts';
import { Teardown } from '../teardown.ts';

/** Relay port of the temporary measuring route. */
export const RELAY_PROBE_PORT = 18999;

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function tcpConnectMs(host: string, port: number, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connect ${host}:${port} timed out`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      sock.destroy();
      resolve(ms);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function timedGet(host: string, port: number, path: string): Promise<number> {
  const ctl = new AbortController();
  const t0 = performance.now();
  const r = await httpAttempt(host, port, path, 2000, ctl.signal);
  if (r.status !== 200) throw new Error(`GET ${host}:${port}${path} answered ${r.status}`);
  return performance.now() - t0;
}

export interface BaseRtt {
  /** Per node in the order given. */
  baseRttMs: number[];
  connectMs: number[];
  relayExtraMs: number;
  method: string;
  /** Clean-up that failed (the probe route left on the relay; the next measurement replaces it). */
  teardownErrors: string[];
}

export async function measureBaseRtt(
  nodes: readonly InventoryNode[],
  relay: InventoryRelay | undefined,
  service: { node: InventoryNode; port: number; healthPath: string },
  samples = 7,
): Promise<BaseRtt> {
  const connectMs: number[] = [];
  for (const n of nodes) {
    const xs: number[] = [];
    for (let i = 0; i < samples; i++) xs.push(await tcpConnectMs(n.address, n.sshPort));
    connectMs.push(median(xs));
  }
  let relayExtraMs = 0;
  const teardown = new Teardown();
  const direct: number[] = [];
  for (let i = 0; i < samples; i++) direct.push(await timedGet(service.node.address, service.port, service.healthPath));
  let fullMs = median(direct);
  if (relay) {
    const sock = relay.controlSocket;
    const existing = ((await relayControl(sock, { op: 'get' })).routes ?? []).some((r) => r.listenPort === RELAY_PROBE_PORT);
    if (existing) await relayControl(sock, { op: 'remove', listenPort: RELAY_PROBE_PORT });
    await relayControl(sock, { op: 'add', listenPort: RELAY_PROBE_PORT, target: `${service.node.address}:${service.port}`, delayMs: 0, node: service.node.name });
    try {
      const via: number[] = [];
      for (let i = 0; i < samples; i++) via.push(await timedGet(relay.address, RELAY_PROBE_PORT, service.healthPath));
      relayExtraMs = Math.max(0, median(via) - fullMs);
      fullMs = median(via);
    } finally {
      await teardown.attempt(`relay probe route :${RELAY_PROBE_PORT}`, () => relayControl(sock, { op: 'remove', listenPort: RELAY_PROBE_PORT }));
    }
  }
  const si = Math.max(0, nodes.findIndex((n) => n.name === service.node.name));
  return {
    baseRttMs: connectMs.map((c) => Math.max(0, fullMs + c - connectMs[si])),
    connectMs,
    relayExtraMs,
    teardownErrors: teardown.errors,
    method: `median of ${samples} GET ${service.healthPath} on fresh connections${relay ? ' through a 0 ms relay route' : ''} to ${service.node.name}, shifted per node by the difference of median TCP connect times to node:sshPort`,
  };
}
