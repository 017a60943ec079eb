/**
 * The simulator's ClusterView: thin objects that read the simulator's arrays
 * and the observed (windowed, causal) metrics (node and container views are
 * shared with the live backend: observed-view.ts). Allocated once per run and
 * refreshed in place at each control step, so a policy call over 10,000
 * containers allocates nothing on the simulator's side.
 */
import { ConmigError } from '../model/errors.ts';
import type { MigrationCostParams, MigrationMode, NodeId, UserId } from '../model/types.ts';
import type {
  ClusterView,
  ContainerView,
  MigrationInFlightView,
  NodeView,
  UserView,
} from '../model/view.ts';
import { ObservedContainerView, ObservedNodeView, type ObservedState, type ObservedViewHost } from '../cluster/observed-view.ts';
import type { Simulator } from './simulator.ts';

class SimUserView implements UserView {
  readonly id: UserId;
  readonly containerId: string;
  constructor(
    private readonly v: SimClusterView,
    private readonly i: number,
  ) {
    this.id = v.sim.scenario.users[i].id;
    this.containerId = v.sim.scenario.containers[v.sim.userContainer[i]].id;
  }
  get apId(): string {
    return this.v.apIds[this.v.sim.userAp[this.i]];
  }
}

export class SimClusterView implements ClusterView, ObservedViewHost {
  readonly state: ObservedState;
  nowMs = 0;
  /** Length of the metrics window at `nowMs` (shorter at the start of a run). */
  windowUs = 1;
  readonly qosThresholdMs: number;
  readonly controlIntervalMs: number;
  readonly nodes: readonly NodeView[];
  readonly containers: readonly ContainerView[];
  readonly users: readonly UserView[];
  readonly defaultMigrationMode: MigrationMode;
  readonly migrationCost: MigrationCostParams;
  readonly nodeIds: readonly NodeId[];
  readonly apIds: readonly string[];
  private readonly byNode = new Map<string, NodeView>();
  private readonly byContainer = new Map<string, ContainerView>();
  private readonly byUser = new Map<string, number>();
  private readonly idOrders = new WeakMap<readonly number[], readonly NodeId[]>();

  constructor(readonly sim: Simulator) {
    this.state = sim;
    const s = sim.scenario;
    this.qosThresholdMs = s.qosThresholdMs;
    this.controlIntervalMs = s.controlIntervalS * 1000;
    this.defaultMigrationMode = s.migration.mode;
    this.migrationCost = s.migration.cost;
    this.nodeIds = s.topology.nodes.map((n) => n.id);
    this.apIds = s.topology.accessPoints.map((a) => a.id);
    this.nodes = s.topology.nodes.map((_, i) => new ObservedNodeView(this, i));
    this.containers = s.containers.map((_, i) => new ObservedContainerView(this, i));
    this.users = s.users.map((_, i) => new SimUserView(this, i));
    for (const n of this.nodes) this.byNode.set(n.id, n);
    for (const c of this.containers) this.byContainer.set(c.id, c);
    s.users.forEach((u, i) => this.byUser.set(u.id, i));
  }

  refresh(nowUs: number): void {
    this.nowMs = nowUs / 1000;
    this.windowUs = this.sim.observed.windowUs(nowUs);
  }

  get migrationsInFlight(): readonly MigrationInFlightView[] {
    return this.sim.inFlightMigrations();
  }

  node(id: NodeId): NodeView {
    const n = this.byNode.get(id);
    if (!n) throw new ConmigError('NODE_UNKNOWN', `no node "${id}" in the cluster`);
    return n;
  }

  container(id: string): ContainerView {
    const c = this.byContainer.get(id);
    if (!c) throw new ConmigError('CONTAINER_UNKNOWN', `no container "${id}" in the cluster`);
    return c;
  }

  // Policies ask several questions about one user in a row: remember the last.
  private lastUserId: UserId | undefined;
  private lastUser = -1;

  private userIndex(id: UserId): number {
    if (id === this.lastUserId) return this.lastUser;
    const u = this.byUser.get(id);
    if (u === undefined) throw new ConmigError('SIM_INVARIANT', `no user "${id}" in the cluster`);
    this.lastUserId = id;
    this.lastUser = u;
    return u;
  }

  user(id: UserId): UserView {
    return this.users[this.userIndex(id)];
  }

  networkRttMs(userId: UserId, nodeId: NodeId): number {
    const n = this.sim.nodeIndex.get(nodeId);
    if (n === undefined) throw new ConmigError('NODE_UNKNOWN', `no node "${nodeId}" in the cluster`);
    return this.sim.rttMs(this.userIndex(userId), n, this.sim.engine.now);
  }

  nodesByRtt(userId: UserId): readonly NodeId[] {
    const order = this.sim.nodeOrder(this.userIndex(userId));
    let ids = this.idOrders.get(order);
    if (ids === undefined) {
      ids = order.map((i) => this.nodeIds[i]);
      this.idOrders.set(order, ids);
    }
    return ids;
  }

  path(from: NodeId, to: NodeId): { bandwidthMbps: number; latencyMs: number } {
    return { bandwidthMbps: this.sim.graph.bottleneckMbps(from, to), latencyMs: this.sim.graph.latencyMs(from, to) };
  }
}
