/**
 * A recording fake ControlPort, in memory: migrations take a scripted
 * scenario time (instant with 0), and every startMigration is recorded. For
 * fast unit tests of controllers and of the contract itself.
 */
import type { ControlPort } from '../../src/model/control.ts';
import type { AcceptedMigration } from '../../src/model/decisions.ts';
import { ConmigError } from '../../src/model/errors.ts';
import { DEFAULT_MIGRATION_COST } from '../../src/model/migration-cost.ts';
import type { ClusterView, ContainerView, MigrationInFlightView, NodeView, UserView } from '../../src/model/view.ts';

export interface FakeBackendInput {
  nodes: Array<{ id: string; memoryMiB?: number; cpuCores?: number }>;
  containers: Array<{ id: string; nodeId: string; memoryMiB?: number; users?: string[] }>;
  /** RTT per user and node (ms). */
  rttMs: Record<string, Record<string, number>>;
  /** Scenario ms a migration takes (0 = done at the next advance, even advance(0)). */
  migrationMs?: number;
}

interface FakeContainer {
  id: string;
  nodeId: string;
  memoryMiB: number;
  users: string[];
  migrating: boolean;
  lastMigrationEndMs: number;
}

export class RecordingFakeBackend implements ControlPort {
  nowMs = 0;
  readonly started: AcceptedMigration[] = [];
  private readonly containers: FakeContainer[];
  private readonly inFlight: Array<MigrationInFlightView & { endMs: number }> = [];

  constructor(private readonly input: FakeBackendInput) {
    this.containers = input.containers.map((c) => ({
      id: c.id,
      nodeId: c.nodeId,
      memoryMiB: c.memoryMiB ?? 128,
      users: c.users ?? [],
      migrating: false,
      lastMigrationEndMs: Number.NEGATIVE_INFINITY,
    }));
  }

  get view(): ClusterView {
    const self = this;
    const nodes: NodeView[] = this.input.nodes.map((n) => ({
      id: n.id,
      cpuCores: n.cpuCores ?? 4,
      memoryMiB: n.memoryMiB ?? 8192,
      memoryUsedMiB:
        this.containers.filter((c) => c.nodeId === n.id).reduce((a, c) => a + c.memoryMiB, 0) +
        this.inFlight.filter((m) => m.to === n.id).reduce((a, m) => a + this.containers.find((c) => c.id === m.containerId)!.memoryMiB, 0),
      utilisation: 0,
      meanQueueMs: 0,
      meanServiceMs: Number.NaN,
      requestRatePerS: 0,
      speedFactor: 1,
    }));
    const containers: ContainerView[] = this.containers.map((c) => ({
      id: c.id,
      nodeId: c.nodeId,
      memoryMiB: c.memoryMiB,
      imageMiB: 50,
      dirtyRateMiBps: 1,
      users: [...c.users],
      migrating: c.migrating,
      lastMigrationEndMs: c.lastMigrationEndMs,
      requestRatePerS: 0,
      meanServiceMs: Number.NaN,
      meanResponseMs: Number.NaN,
      meanNetworkMs: Number.NaN,
      meanMigrationWaitMs: Number.NaN,
      lastResponseMs: Number.NaN,
      lastNetworkMs: Number.NaN,
      lastMigrationWaitMs: Number.NaN,
    }));
    const users: UserView[] = this.containers.flatMap((c) => c.users.map((u) => ({ id: u, apId: 'ap0', containerId: c.id })));
    const rtt = (u: string, n: string): number => {
      if (!nodes.some((x) => x.id === n)) throw new ConmigError('NODE_UNKNOWN', `no node "${n}"`);
      return this.input.rttMs[u]?.[n] ?? 50;
    };
    return {
      nowMs: this.nowMs,
      qosThresholdMs: 100,
      controlIntervalMs: 1000,
      nodes,
      containers,
      users,
      migrationsInFlight: this.inFlight.map(({ endMs: _e, ...m }) => m),
      defaultMigrationMode: 'cold',
      migrationCost: DEFAULT_MIGRATION_COST,
      node(id) {
        const n = nodes.find((x) => x.id === id);
        if (!n) throw new ConmigError('NODE_UNKNOWN', `no node "${id}"`);
        return n;
      },
      container(id) {
        const c = containers.find((x) => x.id === id);
        if (!c) throw new ConmigError('CONTAINER_UNKNOWN', `no container "${id}"`);
        return c;
      },
      user(id) {
        const u = users.find((x) => x.id === id);
        if (!u) throw new ConmigError('CONTAINER_UNKNOWN', `no user "${id}"`);
        return u;
      },
      networkRttMs: rtt,
      nodesByRtt(u) {
        return nodes.map((n) => n.id).sort((a, b) => rtt(u, a) - rtt(u, b) || (a < b ? -1 : a > b ? 1 : 0));
      },
      path(from, to) {
        return { bandwidthMbps: 1000, latencyMs: from === to ? 0 : 1 };
      },
    } satisfies ClusterView as ClusterView & { readonly _fake?: typeof self };
  }

  startMigration(m: AcceptedMigration): void {
    const c = this.containers.find((x) => x.id === m.containerId);
    if (!c || c.migrating) throw new ConmigError('SIM_INVARIANT', `cannot start migration of ${m.containerId}`);
    this.started.push(m);
    c.migrating = true;
    this.inFlight.push({ containerId: m.containerId, from: m.from, to: m.to, mode: m.mode, startedMs: this.nowMs, endMs: this.nowMs + (this.input.migrationMs ?? 0) });
  }

  /** Move scenario time on; migrations due by then finish. */
  advance(ms: number): void {
    this.nowMs += ms;
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const m = this.inFlight[i];
      if (m.endMs > this.nowMs) continue;
      const c = this.containers.find((x) => x.id === m.containerId)!;
      c.nodeId = m.to;
      c.migrating = false;
      c.lastMigrationEndMs = m.endMs;
      this.inFlight.splice(i, 1);
    }
  }
}
