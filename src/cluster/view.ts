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
import { CHANGED_NETWORK, CHANGED_STATE, type ClusterView, type ContainerView, type MigrationInFlightView, type NodeView, type UserView, type ViewChanges } from '../model/view.ts';
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

/** Values per container compared between steps (ViewChanges.containers). */
const C_FIELDS = 4;
/** Values per node compared between steps (ViewChanges.nodes). */
const N_FIELDS = 6;

function same(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b); // NaN equals NaN here
}

/**
 * Tracks what changed between refreshes by comparing the few numbers the
 * view's answers are computed from (a snapshot in typed arrays: O(containers +
 * nodes + users) per step, no allocation).
 */
class ChangeTracker implements ViewChanges {
  step = 0;
  readonly containers: number[] = [];
  readonly handovers: number[] = [];
  readonly nodes: number[] = [];
  readonly containerFlags: Uint8Array;
  readonly nodeFlags: Uint8Array;
  private readonly cSnap: Float64Array;
  private readonly nSnap: Float64Array;
  private readonly apSnap: Int32Array;
  private readonly usersOf: readonly Int32Array[];
  private lastWindowUs = -1;

  constructor(private readonly v: ClusterViewBase) {
    const st = v.state;
    const C = st.containerIds.length;
    const N = st.nodeIds.length;
    this.containerFlags = new Uint8Array(C);
    this.nodeFlags = new Uint8Array(N);
    this.cSnap = new Float64Array(C * C_FIELDS);
    this.nSnap = new Float64Array(N * N_FIELDS);
    this.apSnap = new Int32Array(st.userIds.length);
    this.usersOf = st.scenario.containers.map((spec) => Int32Array.from(spec.users, (id) => st.userIndex.get(id) ?? -1).filter((u) => u >= 0));
  }

  /** Compare with the previous step. `rttFollowsAp`: users' RTT orders change only at handovers. */
  update(rttFollowsAp: boolean): void {
    const st = this.v.state;
    const o = st.observed;
    const first = this.step === 0;
    this.step++;
    const cf = this.containerFlags;
    const nf = this.nodeFlags;
    cf.fill(0);
    nf.fill(0);
    this.containers.length = 0;
    this.handovers.length = 0;
    this.nodes.length = 0;
    const w = this.v.windowUs;
    // The window's length enters every rate: while it grows (start of a run) every container changes.
    const windowMoved = w !== this.lastWindowUs;
    this.lastWindowUs = w;
    const C = cf.length;
    for (let c = 0; c < C; c++) {
      const b = c * C_FIELDS;
      // Every field is compared and stored (no short-circuit): the snapshot stays whole.
      let changed = this.putC(b, st.containerNode[c]);
      changed = this.putC(b + 1, st.containerMigrating[c]) || changed;
      changed = this.putC(b + 2, st.lastMigrationEndMs[c]) || changed;
      // Every windowed and last-request value changes only with a bump of cVersion.
      changed = this.putC(b + 3, o.cVersion[c]) || changed;
      if (windowMoved) changed = true;
      if (changed || first) {
        cf[c] |= CHANGED_STATE;
        this.containers.push(c);
      }
    }
    const ap = this.v.userAp;
    const snap = this.apSnap;
    for (let c = 0; c < C; c++) {
      const us = this.usersOf[c];
      let moved = first || (!rttFollowsAp && us.length > 0);
      for (let i = 0; i < us.length; i++) {
        const u = us[i];
        if (snap[u] !== ap[u]) {
          moved = true;
          snap[u] = ap[u];
        }
      }
      if (moved) {
        cf[c] |= CHANGED_NETWORK;
        this.handovers.push(c);
      }
    }
    for (let n = 0; n < nf.length; n++) {
      const b = n * N_FIELDS;
      let changed = this.putN(b, w);
      changed = this.putN(b + 1, st.memUsedMiB[n] + st.memReservedMiB[n]) || changed;
      changed = this.putN(b + 2, o.nBusyTot[n]) || changed;
      changed = this.putN(b + 3, o.nCountTot[n]) || changed;
      changed = this.putN(b + 4, o.nQueueTot[n]) || changed;
      changed = this.putN(b + 5, o.nSvcTot[n]) || changed;
      if (changed || first) {
        nf[n] = 1;
        this.nodes.push(n);
      }
    }
  }

  private putC(i: number, x: number): boolean {
    if (same(this.cSnap[i], x)) return false;
    this.cSnap[i] = x;
    return true;
  }

  private putN(i: number, x: number): boolean {
    if (same(this.nSnap[i], x)) return false;
    this.nSnap[i] = x;
    return true;
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
  private readonly tracker: ChangeTracker;
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
    this.tracker = new ChangeTracker(this);
  }

  /** What changed since the previous step (valid once the backend called trackChanges at a refresh). */
  get changes(): ViewChanges | undefined {
    return this.tracker.step > 0 ? this.tracker : undefined;
  }

  /**
   * Record what changed since the previous refresh; a backend calls it at the
   * end of each refresh, once its state and userAp are up to date.
   * `rttFollowsAp`: a user's RTT order to the nodes changes only when its
   * access point does (the geometric model with the model's own RTTs).
   */
  protected trackChanges(rttFollowsAp: boolean): void {
    this.tracker.update(rttFollowsAp);
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
