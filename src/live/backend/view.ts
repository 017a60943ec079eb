/**
 * The live backend's state and its ClusterView, mirroring src/sim/view.ts:
 *
 *  - response, network and service times come from requests the emulated
 *    users COMPLETED (ObservedMetrics, the simulator's own windowed
 *    aggregates, filed at the scenario time the answer arrived), so the view
 *    is causal exactly like the simulator's;
 *  - node utilisation is measured CPU time of the containers on the node
 *    (runc's cgroup counters, read over SSH each control step) over the
 *    node's cores in the scenario;
 *  - where each container runs is the backend's own record (verified with
 *    runc at the start and after each migration);
 *  - network RTT user -> node = the scenario's latency model at the user's
 *    current position (what the emulation imposes) + the base RTT of the
 *    path measured once at pre-flight.
 *
 * Times in the view are scenario time (nowMs, lastMigrationEndMs, startedMs);
 * latencies (response, network, service) are real milliseconds.
 */
import { ConmigError } from '../../model/errors.ts';
import { BackhaulGraph, LatencyModel } from '../../model/latency.ts';
import type { ContainerId, MigrationCostParams, MigrationMode, NodeId, Scenario, UserId } from '../../model/types.ts';
import type { ClusterView, ContainerView, MigrationInFlightView, NodeView, UserView } from '../../model/view.ts';
import { ObservedMetrics } from '../../cluster/observed.ts';
import { ObservedContainerView, ObservedNodeView, type ObservedState, type ObservedViewHost } from '../../cluster/observed-view.ts';
import type { UserMotion } from './motion.ts';

export class LiveState implements ObservedState {
  readonly nodeIds: readonly NodeId[];
  readonly nodeIndex = new Map<NodeId, number>();
  readonly containerIds: readonly ContainerId[];
  readonly containerIndex = new Map<ContainerId, number>();
  readonly userIds: readonly UserId[];
  readonly userIndex = new Map<UserId, number>();
  readonly graph: BackhaulGraph;
  readonly latency: LatencyModel;
  readonly observed: ObservedMetrics;
  readonly containerNode: Int32Array;
  readonly containerMigrating: Uint8Array;
  /** Scenario ms the last migration of each container finished (-Infinity if never). */
  readonly lastMigrationEndMs: Float64Array;
  readonly memUsedMiB: Float64Array;
  readonly memReservedMiB: Float64Array;
  readonly inFlight = new Map<number, MigrationInFlightView>();
  /** Measured base RTT of the path controller/users -> node (ms), without emulated delay. */
  readonly baseRttMs: Float64Array;
  readonly userContainer: Int32Array;
  readonly userPayloadKiB: Float64Array;

  constructor(
    readonly scenario: Scenario,
    readonly motion: UserMotion,
  ) {
    const s = scenario;
    this.nodeIds = s.topology.nodes.map((n) => n.id);
    this.nodeIds.forEach((id, i) => this.nodeIndex.set(id, i));
    this.containerIds = s.containers.map((c) => c.id);
    this.containerIds.forEach((id, i) => this.containerIndex.set(id, i));
    this.userIds = s.users.map((u) => u.id);
    this.userIds.forEach((id, i) => this.userIndex.set(id, i));
    this.graph = new BackhaulGraph(s.topology);
    this.latency = new LatencyModel(s.latency, s.topology, this.graph);
    const N = this.nodeIds.length;
    const C = this.containerIds.length;
    this.observed = new ObservedMetrics(C, N, Math.round(s.controlIntervalS * 1e6), Math.round(s.metricsWindowS * 1e6));
    this.containerNode = new Int32Array(C);
    this.containerMigrating = new Uint8Array(C);
    this.lastMigrationEndMs = new Float64Array(C).fill(Number.NEGATIVE_INFINITY);
    this.memUsedMiB = new Float64Array(N);
    this.memReservedMiB = new Float64Array(N);
    this.baseRttMs = new Float64Array(N);
    s.containers.forEach((c, i) => {
      const n = this.nodeIndex.get(c.node);
      if (n === undefined) throw new ConmigError('NODE_UNKNOWN', `container ${c.id} starts on unknown node ${c.node}`);
      this.containerNode[i] = n;
      this.memUsedMiB[n] += c.memoryMiB;
    });
    this.userContainer = new Int32Array(s.users.length).fill(-1);
    s.containers.forEach((c, ci) => {
      for (const uid of c.users) {
        const u = this.userIndex.get(uid);
        if (u !== undefined) this.userContainer[u] = ci;
      }
    });
    this.userPayloadKiB = Float64Array.from(s.users, (u) => u.requests.requestKiB + u.requests.responseKiB);
    s.users.forEach((u, i) => {
      if (this.userContainer[i] < 0) throw new ConmigError('SCENARIO_INVALID', `user ${u.id} is served by no container`);
    });
  }

  /** The emulated part of the RTT (ms): the latency model at the user's position at scenario time `scenUs`. */
  modelRttMs(u: number, n: number, scenUs: number): number {
    const p = this.motion.positionAt(u, scenUs);
    return this.latency.networkRttMsXY(p.xM, p.yM, this.motion.apOf(p), n, this.userPayloadKiB[u]);
  }

  /** Containers per node (for report windows). */
  containersPerNode(): Float64Array {
    const out = new Float64Array(this.nodeIds.length);
    for (let c = 0; c < this.containerNode.length; c++) out[this.containerNode[c]]++;
    return out;
  }
}

class LiveUserView implements UserView {
  readonly id: UserId;
  readonly containerId: ContainerId;
  constructor(
    private readonly v: LiveClusterView,
    private readonly i: number,
  ) {
    this.id = v.state.userIds[i];
    this.containerId = v.state.containerIds[v.state.userContainer[i]];
  }
  get apId(): string {
    return this.v.state.scenario.topology.accessPoints[this.v.userAp[this.i]].id;
  }
}

export class LiveClusterView implements ClusterView, ObservedViewHost {
  get nodeIds(): readonly NodeId[] {
    return this.state.nodeIds;
  }
  nowMs = 0;
  /** Scenario µs covered by the metrics window at nowMs (shorter at the start). */
  windowUs = 1;
  readonly qosThresholdMs: number;
  readonly controlIntervalMs: number;
  readonly nodes: readonly NodeView[];
  readonly containers: readonly ContainerView[];
  readonly users: readonly UserView[];
  readonly defaultMigrationMode: MigrationMode;
  readonly migrationCost: MigrationCostParams;
  /** Per user: attached AP index at nowMs. */
  readonly userAp: Int32Array;
  /** [u * N + n]: RTT (model at the user's position at nowMs + measured base). */
  private readonly rtt: Float64Array;
  private readonly orders: NodeId[][];
  private readonly byNode = new Map<NodeId, NodeView>();
  private readonly byContainer = new Map<ContainerId, ContainerView>();

  constructor(readonly state: LiveState) {
    const s = state.scenario;
    this.qosThresholdMs = s.qosThresholdMs;
    this.controlIntervalMs = s.controlIntervalS * 1000;
    this.defaultMigrationMode = s.migration.mode;
    this.migrationCost = s.migration.cost;
    this.nodes = s.topology.nodes.map((_, i) => new ObservedNodeView(this, i));
    this.containers = s.containers.map((_, i) => new ObservedContainerView(this, i));
    this.users = s.users.map((_, i) => new LiveUserView(this, i));
    for (const n of this.nodes) this.byNode.set(n.id, n);
    for (const c of this.containers) this.byContainer.set(c.id, c);
    this.userAp = new Int32Array(s.users.length);
    this.rtt = new Float64Array(s.users.length * this.nodes.length);
    this.orders = s.users.map(() => []);
    this.refresh(0);
  }

  /** Recompute positions, RTTs and node orders for scenario time `nowScenUs` (call after closing metric intervals). */
  refresh(nowScenUs: number): void {
    const st = this.state;
    this.nowMs = nowScenUs / 1000;
    this.windowUs = st.observed.windowUs(nowScenUs);
    const N = st.nodeIds.length;
    for (let u = 0; u < st.userIds.length; u++) {
      const p = st.motion.positionAt(u, nowScenUs);
      const ap = st.motion.apOf(p);
      this.userAp[u] = ap;
      for (let n = 0; n < N; n++) {
        this.rtt[u * N + n] = st.latency.networkRttMsXY(p.xM, p.yM, ap, n, st.userPayloadKiB[u]) + st.baseRttMs[n];
      }
      const keys = this.rtt.subarray(u * N, u * N + N);
      this.orders[u] = st.nodeIds
        .map((_, n) => n)
        .sort((a, b) => keys[a] - keys[b] || (st.nodeIds[a] < st.nodeIds[b] ? -1 : st.nodeIds[a] > st.nodeIds[b] ? 1 : 0))
        .map((n) => st.nodeIds[n]);
    }
  }

  get migrationsInFlight(): readonly MigrationInFlightView[] {
    return [...this.state.inFlight.values()];
  }

  node(id: NodeId): NodeView {
    const n = this.byNode.get(id);
    if (!n) throw new ConmigError('NODE_UNKNOWN', `no node "${id}" in the cluster`);
    return n;
  }

  container(id: ContainerId): ContainerView {
    const c = this.byContainer.get(id);
    if (!c) throw new ConmigError('CONTAINER_UNKNOWN', `no container "${id}" in the cluster`);
    return c;
  }

  private userIdx(id: UserId): number {
    const u = this.state.userIndex.get(id);
    if (u === undefined) throw new ConmigError('CONTAINER_UNKNOWN', `no user "${id}" in the cluster`);
    return u;
  }

  user(id: UserId): UserView {
    return this.users[this.userIdx(id)];
  }

  networkRttMs(userId: UserId, nodeId: NodeId): number {
    const n = this.state.nodeIndex.get(nodeId);
    if (n === undefined) throw new ConmigError('NODE_UNKNOWN', `no node "${nodeId}" in the cluster`);
    return this.rtt[this.userIdx(userId) * this.state.nodeIds.length + n];
  }

  nodesByRtt(userId: UserId): readonly NodeId[] {
    return this.orders[this.userIdx(userId)];
  }

  path(from: NodeId, to: NodeId): { bandwidthMbps: number; latencyMs: number } {
    return { bandwidthMbps: this.state.graph.bottleneckMbps(from, to), latencyMs: this.state.graph.latencyMs(from, to) };
  }
}
