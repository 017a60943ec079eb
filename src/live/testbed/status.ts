/** `conmig testbed status`: what is up, found from the kernel, pidfiles and runc roots. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConmigError } from '../../model/errors.ts';
import { detectCgroupsAt, nodeCgroupParent, readCpuLimit, type CpuLimit } from './cgroup.ts';
import { runcRoots } from './clean.ts';
import { tryRun } from './exec.ts';
import { BRIDGE, DEFAULT_STATE_DIR, USERS_ADDR, hostVeth, nodePaths, statePaths } from './layout.ts';
import { listLinks, listNamespaces } from './net.ts';
import { relayControl, type RelayRoute } from './relay.ts';
import { pidAlive, readPid, waitTcp } from './ssh.ts';
import type { TopologyPlan } from './topology.ts';

export interface NodeStatus {
  name: string;
  netns: string;
  address: string;
  namespaceUp: boolean;
  sshdPid?: number;
  sshdAlive: boolean;
  sshReachable: boolean;
  containers: { id: string; status: string; pid: number }[];
  qdiscs: string[];
  /** The node's CPU cgroup as the kernel has it now (absent: the node has none). */
  cpu?: { cgroupVersion: 1 | 2; cgroupParent: string; requestedCores: number | null } & CpuLimit;
}

export interface TestbedStatus {
  stateDir: string;
  up: boolean;
  bridge: boolean;
  namespaces: string[];
  links: string[];
  nodes: NodeStatus[];
  relay?: { pid?: number; alive: boolean; routes: RelayRoute[] };
}

export async function testbedStatus(stateDirOpt?: string): Promise<TestbedStatus> {
  const stateDir = resolve(stateDirOpt ?? DEFAULT_STATE_DIR);
  const sp = statePaths(stateDir);
  const namespaces = await listNamespaces();
  const links = await listLinks();
  const st: TestbedStatus = { stateDir, up: false, bridge: links.includes(BRIDGE), namespaces, links, nodes: [] };
  if (!existsSync(sp.testbedJson)) return st;
  const { plan } = JSON.parse(await readFile(sp.testbedJson, 'utf8')) as { plan: TopologyPlan };
  const roots = new Map(runcRoots(stateDir).map((r) => [r.node, r.root]));
  const cgroups = detectCgroupsAt('/');
  for (const n of plan.nodes) {
    const p = nodePaths(stateDir, n.name);
    const netns = `cm-${n.name}`;
    const address = `10.77.0.${10 + n.index}`;
    const sshdPid = await readPid(p.sshdPid);
    const ns: NodeStatus = {
      name: n.name, netns, address, namespaceUp: namespaces.includes(netns), sshdPid, sshdAlive: sshdPid ? pidAlive(sshdPid) : false,
      sshReachable: false, containers: [], qdiscs: [],
    };
    ns.sshReachable = await waitTcp(address, 22, 0).then(() => true, () => false);
    const root = roots.get(n.name);
    if (root) {
      const l = await tryRun('runc', ['--root', root, 'list', '--format', 'json']);
      const arr = (l.code === 0 && l.stdout.trim() ? JSON.parse(l.stdout) : []) as { id: string; status: string; pid: number }[] | null;
      ns.containers = (arr ?? []).map((c) => ({ id: c.id, status: c.status, pid: c.pid }));
    }
    if (ns.namespaceUp) {
      const inside = await tryRun('tc', ['qdisc', 'show', 'dev', 'eth0'], { netns });
      const outside = await tryRun('tc', ['qdisc', 'show', 'dev', hostVeth(n.index)]);
      ns.qdiscs = [...inside.stdout.trim().split('\n').map((l) => `in node: ${l}`),
        ...outside.stdout.trim().split('\n').map((l) => `bridge port: ${l}`)].filter((l) => !l.endsWith(': '));
    }
    if (cgroups.version !== 0) {
      const parent = nodeCgroupParent(n.name);
      const lim = readCpuLimit(cgroups, parent);
      if (lim) ns.cpu = { cgroupVersion: cgroups.version, cgroupParent: parent, requestedCores: n.cpus ?? null, ...lim };
    }
    st.nodes.push(ns);
  }
  const relayPid = await readPid(sp.relayPid);
  const alive = relayPid ? pidAlive(relayPid) : false;
  const routes = alive ? await relayControl(sp.relaySock, { op: 'get' }).then((r) => r.routes ?? [], () => []) : [];
  st.relay = { pid: relayPid, alive, routes };
  st.up = st.bridge && st.nodes.length > 0 && st.nodes.every((n) => n.namespaceUp && n.sshdAlive);
  return st;
}

/** Median RTT through the relay vs direct, for each requested delay (docs/testbed.md). */
export async function measureRelay(stateDirOpt: string | undefined, delaysMs: number[], count: number,
  get: (host: string, port: number) => Promise<number>): Promise<{ delayMs: number; directMs: number; relayMs: number }[]> {
  const stateDir = resolve(stateDirOpt ?? DEFAULT_STATE_DIR);
  const sp = statePaths(stateDir);
  const routes = (await relayControl(sp.relaySock, { op: 'get' })).routes ?? [];
  let r0: RelayRoute | undefined;
  for (const r of routes) {
    if (await get(r.targetHost, r.targetPort).then(() => true, () => false)) {
      r0 = r;
      break;
    }
  }
  if (!r0) throw new ConmigError('TESTBED_FAILED', 'no relay route leads to a node with a workload answering /health');
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out: { delayMs: number; directMs: number; relayMs: number }[] = [];
  const route = r0;
  for (const d of delaysMs) {
    await relayControl(sp.relaySock, { op: 'set', listenPort: route.listenPort, delayMs: d });
    const direct: number[] = [];
    const relayed: number[] = [];
    for (let i = 0; i < count; i++) {
      direct.push(await get(route.targetHost, route.targetPort));
      relayed.push(await get(USERS_ADDR, route.listenPort));
    }
    out.push({ delayMs: d, directMs: median(direct), relayMs: median(relayed) });
  }
  await relayControl(sp.relaySock, { op: 'set', listenPort: route.listenPort, delayMs: route.delayMs });
  return out;
}
