/**
 * What the simulator's and the live backend's ClusterViews share: node and
 * container views over the ClusterState and its observed metrics
 * (observed-view.ts), user views, lookups by id, and backhaul paths. A
 * backend adds where its users are (their access point and the RTT to each
 * node) and which migrations are in flight. Allocated once per run and
 * refreshed in place at each control step, so a policy call allocates nothing
 * on the backend's side.
 */
import { ConmigError } from '../model/errors.ts';
import type { ApId, ContainerId, MigrationCostParams, MigrationMode, NodeId, UserId } from '../model/types.ts';
import type { ClusterView, ContainerView, MigrationInFlightView, NodeView, UserView } from '../model/view.ts';
import { ObservedContainerView, ObservedNodeView, type ObservedViewHost } from './observed-view.ts';
import type { ClusterState } from './state.ts';

class ClusterUserView implements UserView {
  readonly id: UserId;
  readonly containerId: ContainerId;
  constructor(
    private readonly v: ClusterViewBase,
    private readonly i: number,
  ) {
    this.id = v.state.userIds[i];
    this.containerId = v.state.containerIds[v.state.userContainer[i]];
  }
  get apId(): ApId {
    return this.v.apIds[this.v.userAp[this.i]];
  }
}

export abstract class ClusterViewBase implements ClusterView, ObservedViewHost {
  nowMs = 0;
  /** Scenario µs covered by the metrics window at nowMs (shorter at the start of a run). */
  windowUs = 1;
  readonly qosThresholdMs: number;
  readonly controlIntervalMs: number;
  readonly nodes: readonly NodeView[];
  readonly containers: readonly ContainerView[];
  readonly users: readonly UserView[];
  readonly defaultMigrationMode: MigrationMode;
  readonly migrationCost: MigrationCostParams;
  readonly apIds: readonly ApId[];
  private readonly byNode = new Map<NodeId, NodeView>();
  private readonly byContainer = new Map<ContainerId, ContainerView>();
  // Policies ask several questions about one user in a row: remember the last.
  private lastUserId: UserId | undefined;
  private lastUser = -1;

  /** `userAp`: each user's access point index now, kept up to date by the backend. */
  constructor(
    readonly state: ClusterState,
    readonly userAp: Int32Array,
  ) {
    const s = state.scenario;
    this.qosThresholdMs = s.qosThresholdMs;
    this.controlIntervalMs = s.controlIntervalS * 1000;
    this.defaultMigrationMode = s.migration.mode;
    this.migrationCost = s.migration.cost;
    this.apIds = s.topology.accessPoints.map((a) => a.id);
    this.nodes = s.topology.nodes.map((_, i) => new ObservedNodeView(this, i));
    this.containers = s.containers.map((_, i) => new ObservedContainerView(this, i));
    this.users = s.users.map((_, i) => new ClusterUserView(this, i));
    for (const n of this.nodes) this.byNode.set(n.id, n);
    for (const c of this.containers) this.byContainer.set(c.id, c);
  }

  get nodeIds(): readonly NodeId[] {
    return this.state.nodeIds;
  }

  abstract readonly migrationsInFlight: readonly MigrationInFlightView[];
  abstract networkRttMs(userId: UserId, nodeId: NodeId): number;
  abstract nodesByRtt(userId: UserId): readonly NodeId[];

  /** Set the view's time and metrics window (after the backend closed the metric intervals up to `nowUs`). */
  protected setTime(nowUs: number): void {
    this.nowMs = nowUs / 1000;
    this.windowUs = this.state.observed.windowUs(nowUs);
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

  protected userIndexOf(id: UserId): number {
    if (id === this.lastUserId) return this.lastUser;
    const u = this.state.userIndex.get(id);
    if (u === undefined) throw new ConmigError('CONTAINER_UNKNOWN', `no user "${id}" in the cluster`);
    this.lastUserId = id;
    this.lastUser = u;
    return u;
  }

  protected nodeIndexOf(id: NodeId): number {
    const n = this.state.nodeIndex.get(id);
    if (n === undefined) throw new ConmigError('NODE_UNKNOWN', `no node "${id}" in the cluster`);
    return n;
  }

  user(id: UserId): UserView {
    return this.users[this.userIndexOf(id)];
  }

  path(from: NodeId, to: NodeId): { bandwidthMbps: number; latencyMs: number } {
    return { bandwidthMbps: this.state.graph.bottleneckMbps(from, to), latencyMs: this.state.graph.latencyMs(from, to) };
  }
}
