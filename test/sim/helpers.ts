/**
 * Small scenarios built in code for the simulator tests.
 *
 * `makeScenario()` gives a queueing lab: node n0 (and optionally more nodes on
 * a line, 1 km apart, joined by backhaul links), one access point per node at
 * the node's position, static users standing on n0, a geometric latency model
 * with zero access latency and zero payload, so every request's network RTT is
 * exactly 0 and its response time is queue + service. One container (c0, on
 * n0) serves every user; the policy is `never`.
 */
import { DEFAULT_MIGRATION_COST } from '../../src/model/migration-cost.ts';
import { definePolicy } from '../../src/model/policies/index.ts';
import type { Policy } from '../../src/model/policy.ts';
import type { ClusterView, MigrationDecision } from '../../src/model/view.ts';
import type { RequestRecord } from '../../src/model/results.ts';
import type { ContainerSpec, MigrationCostParams, MigrationMode, Scenario, ServiceTimeSpec } from '../../src/model/types.ts';
import { simulate, type SimulateResult } from '../../src/sim/simulator.ts';

export interface LabOptions {
  /** Cores of n0 (default 1). */
  cores?: number;
  /** Number of nodes n0..n{k-1} (default 1). */
  nodes?: number;
  /** Memory of every node (default 8192 MiB). */
  nodeMemoryMiB?: number;
  /** Total request rate over all users (default 50/s). */
  ratePerS?: number;
  /** Users sharing the rate equally (default 1). */
  users?: number;
  /** Containers c0..c{k-1}, all on n0; users are dealt round-robin (default 1). */
  containers?: number;
  serviceTime?: ServiceTimeSpec;
  timeoutMs?: number;
  durationS?: number;
  warmupS?: number;
  controlIntervalS?: number;
  reportIntervalS?: number;
  metricsWindowS?: number;
  containerMemoryMiB?: number;
  imageMiB?: number;
  dirtyRateMiBps?: number;
  migrationMode?: MigrationMode;
  cost?: Partial<MigrationCostParams>;
  linkLatencyMs?: number;
  linkMbps?: number;
}

export function makeScenario(o: LabOptions = {}): Scenario {
  const nodeCount = o.nodes ?? 1;
  const userCount = o.users ?? 1;
  const containerCount = o.containers ?? 1;
  const rate = o.ratePerS ?? 50;
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({
    id: `n${i}`,
    position: { xM: i * 1000, yM: 0 },
    cpuCores: i === 0 ? (o.cores ?? 1) : 4,
    memoryMiB: o.nodeMemoryMiB ?? 8192,
    backgroundLoad: 0,
    speedFactor: 1,
  }));
  const links = nodes.slice(1).map((n, i) => ({
    a: nodes[i].id,
    b: n.id,
    latencyMs: o.linkLatencyMs ?? 1,
    bandwidthMbps: o.linkMbps ?? 1000,
  }));
  const users = Array.from({ length: userCount }, (_, i) => ({
    id: `u${i}`,
    start: { xM: 0, yM: 0 },
    mobility: { kind: 'static' as const },
    requests: { ratePerS: rate / userCount, requestKiB: 0, responseKiB: 0, timeoutMs: o.timeoutMs ?? 1e9 },
  }));
  const containers: ContainerSpec[] = Array.from({ length: containerCount }, (_, k) => ({
    id: `c${k}`,
    node: 'n0',
    memoryMiB: o.containerMemoryMiB ?? 128,
    imageMiB: o.imageMiB ?? 64,
    dirtyRateMiBps: o.dirtyRateMiBps ?? 2,
    users: users.filter((_, i) => i % containerCount === k).map((u) => u.id),
    serviceTime: o.serviceTime ?? { kind: 'exponential', meanMs: 10 },
  }));
  return {
    name: 'lab',
    description: 'queueing lab built in code',
    file: '',
    mode: 'sim',
    seed: 1,
    durationS: o.durationS ?? 100,
    warmupS: o.warmupS ?? 0,
    controlIntervalS: o.controlIntervalS ?? 1,
    metricsWindowS: o.metricsWindowS ?? 10,
    reportIntervalS: o.reportIntervalS ?? 10,
    qosThresholdMs: 100,
    latency: { kind: 'geometric', accessBaseMs: 0, accessMsPerKm: 0 },
    topology: {
      areaM: { width: Math.max(1, (nodeCount - 1) * 1000), height: 1 },
      nodes,
      switches: [],
      accessPoints: nodes.map((n) => ({ id: `ap-${n.id}`, position: { ...n.position }, attachedTo: n.id })),
      links,
    },
    users,
    containers,
    migration: { mode: o.migrationMode ?? 'cold', cost: { ...DEFAULT_MIGRATION_COST, ...o.cost } },
    policies: [{ name: 'never', params: {} }],
    output: { requestTrace: false, perUserSeries: false },
  };
}

/** A policy that asks once, at or after `atS`, to move `containerId` to `to` (no hidden state: it reads the view). */
export function moveOncePolicy(containerId: string, to: string, atS: number, mode?: MigrationMode): Policy {
  return definePolicy({
    name: 'move-once',
    defaults: {},
    decide(view: ClusterView): MigrationDecision[] {
      const c = view.container(containerId);
      if (view.nowMs < atS * 1000 || c.migrating || c.lastMigrationEndMs > Number.NEGATIVE_INFINITY) return [];
      return [{ containerId, to, reason: 'test', ...(mode ? { mode } : {}) }];
    },
  }).create();
}

/** A policy that, every control step, asks to move every container to `to` (or away from it, to n0, when already there). */
export function pushAllPolicy(to: string, pingPong: boolean): Policy {
  return definePolicy({
    name: 'push-all',
    defaults: {},
    decide(view: ClusterView): MigrationDecision[] {
      return view.containers.map((c) => ({
        containerId: c.id,
        to: pingPong && c.nodeId === to ? 'n0' : to,
        reason: 'push',
      }));
    },
  }).create();
}

/** simulate() with every request record collected. */
export function simulateWithTrace(scenario: Scenario, policy: Policy, seed: number): { result: SimulateResult; requests: RequestRecord[] } {
  const requests: RequestRecord[] = [];
  const result = simulate(scenario, policy, seed, { requestSink: (r) => requests.push(r) });
  return { result, requests };
}

/**
 * Mean and standard error of a sequence of correlated observations by the
 * method of batch means (`batches` equal consecutive batches).
 */
export function batchMeans(xs: readonly number[], batches = 20): { mean: number; se: number } {
  const size = Math.floor(xs.length / batches);
  const means: number[] = [];
  for (let b = 0; b < batches; b++) {
    let s = 0;
    for (let i = b * size; i < (b + 1) * size; i++) s += xs[i];
    means.push(s / size);
  }
  const mean = means.reduce((a, b) => a + b, 0) / batches;
  const variance = means.reduce((a, m) => a + (m - mean) ** 2, 0) / (batches - 1);
  return { mean, se: Math.sqrt(variance / batches) };
}
