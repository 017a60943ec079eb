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
import { ObservedContainerView, ObservedNodeView, fillContainerColumns, type ObservedViewHost } from './observed-view.ts';
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
  sinceStep = 0;
  readonly handovers: number[] = [];
  // The lists of changed containers and nodes are built from the flags when first read at
  // a step (the built-in policies read only the flags and handovers): no 10,000-entry array
  // regrown every step.
  private readonly containerList: number[] = [];
  private readonly nodeList: number[] = [];
  private containerListStep = -1;
  private nodeListStep = -1;
  readonly containerFlags: Uint8Array;
  readonly nodeFlags: Uint8Array;
  private readonly cSnap: Float64Array;
  private readonly nSnap: Float64Array;
  private readonly apSnap: Int32Array;
  /** Users of container c: userList[userStart[c] .. userStart[c + 1]). */
  private readonly userStart: Int32Array;
  private readonly userList: Int32Array;
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
    const lists = st.scenario.containers.map((spec) => spec.users.map((id) => st.userIndex.get(id) ?? -1).filter((u) => u >= 0));
    this.userStart = new Int32Array(C + 1);
    for (let c = 0; c < C; c++) this.userStart[c + 1] = this.userStart[c] + lists[c].length;
    this.userList = Int32Array.from(lists.flat());
  }

  /** Compare with the snapshot of step `sinceStep` (0: none, everything changed); this is step `step`. */
  update(step: number, rttFollowsAp: boolean): void {
    const st = this.v.state;
    const o = st.observed;
    const first = this.step === 0;
    this.sinceStep = this.step;
    this.step = step;
    const cf = this.containerFlags;
    const nf = this.nodeFlags;
    cf.fill(0);
    nf.fill(0);
    let handovers = 0;
    const w = this.v.windowUs;
    // The window's length enters every rate: while it grows (start of a run) every container changes.
    const all = first || w !== this.lastWindowUs;
    this.lastWindowUs = w;
    const C = cf.length;
    const cs = this.cSnap;
    const node = st.containerNode;
    const migrating = st.containerMigrating;
    const lastEnd = st.lastMigrationEndMs;
    const version = o.cVersion; // bumped whenever any windowed or last-request value changes
    for (let c = 0, b = 0; c < C; c++, b += C_FIELDS) {
      const x0 = node[c];
      const x1 = migrating[c];
      const x2 = lastEnd[c];
      const x3 = version[c];
      if (all || cs[b] !== x0 || cs[b + 1] !== x1 || !same(cs[b + 2], x2) || cs[b + 3] !== x3) {
        cs[b] = x0;
        cs[b + 1] = x1;
        cs[b + 2] = x2;
        cs[b + 3] = x3;
        cf[c] = CHANGED_STATE;
      }
    }
    const ap = this.v.userAp;
    const snap = this.apSnap;
    const start = this.userStart;
    const list = this.userList;
    for (let c = 0; c < C; c++) {
      const s0 = start[c];
      const s1 = start[c + 1];
      let moved = first || (!rttFollowsAp && s1 > s0);
      for (let i = s0; i < s1; i++) {
        const u = list[i];
        if (snap[u] !== ap[u]) {
          moved = true;
          snap[u] = ap[u];
        }
      }
      if (moved) {
        cf[c] |= CHANGED_NETWORK;
        this.handovers[handovers++] = c; // in place: the array keeps its room from step to step
      }
    }
    this.handovers.length = handovers;
    for (let n = 0, b = 0; n < nf.length; n++, b += N_FIELDS) {
      let changed = this.putN(b, w);
      changed = this.putN(b + 1, st.memUsedMiB[n] + st.memReservedMiB[n]) || changed;
      changed = this.putN(b + 2, o.nBusyTot[n]) || changed;
      changed = this.putN(b + 3, o.nCountTot[n]) || changed;
      changed = this.putN(b + 4, o.nQueueTot[n]) || changed;
      changed = this.putN(b + 5, o.nSvcTot[n]) || changed;
      if (changed || first) nf[n] = 1;
    }
  }

  /** Containers with CHANGED_STATE, ascending. */
  get containers(): readonly number[] {
    if (this.containerListStep !== this.step) {
      const list = this.containerList;
      let k = 0;
      const cf = this.containerFlags;
      for (let c = 0; c < cf.length; c++) if ((cf[c] & CHANGED_STATE) !== 0) list[k++] = c;
      list.length = k;
      this.containerListStep = this.step;
    }
    return this.containerList;
  }

  /** Nodes whose load changed, ascending. */
  get nodes(): readonly number[] {
    if (this.nodeListStep !== this.step) {
      const list = this.nodeList;
      let k = 0;
      const nf = this.nodeFlags;
      for (let n = 0; n < nf.length; n++) if (nf[n] === 1) list[k++] = n;
      list.length = k;
      this.nodeListStep = this.step;
    }
    return this.nodeList;
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
  /** windowUs / 1e6 (the rates divide by it). */
  windowS = 1e-6;
  readonly containerRatePerS: Float64Array;
  readonly containerMeanServiceMs: Float64Array;
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
    this.nodeIds = state.nodeIds;
    this.containerRatePerS = new Float64Array(s.containers.length);
    this.containerMeanServiceMs = new Float64Array(s.containers.length).fill(Number.NaN);
    this.nodes = s.topology.nodes.map((_, i) => new ObservedNodeView(this, i));
    this.containers = s.containers.map((_, i) => new ObservedContainerView(this, i));
    this.users = s.users.map((_, i) => new ClusterUserView(this, i));
    for (const n of this.nodes) this.byNode.set(n.id, n);
    for (const c of this.containers) this.byContainer.set(c.id, c);
    this.tracker = new ChangeTracker(this);
  }

  private refreshes = 0;
  private rttFollowsAp = false;

  /**
   * What changed since the previous step at which someone read `changes`
   * (undefined until the backend's first trackChanges). Computed at the first
   * read after a refresh, so a policy that never reads it costs nothing.
   */
  get changes(): ViewChanges | undefined {
    if (this.refreshes === 0) return undefined;
    if (this.tracker.step !== this.refreshes) this.tracker.update(this.refreshes, this.rttFollowsAp);
    return this.tracker;
  }

  /**
   * Mark a refresh: a backend calls it at the end of each, once its state and
   * userAp are up to date (the changes are computed when first read).
   * `rttFollowsAp`: a user's RTT order to the nodes changes only when its
   * access point does (the geometric model with the model's own RTTs).
   */
  protected trackChanges(rttFollowsAp: boolean): void {
    this.refreshes++;
    this.rttFollowsAp = rttFollowsAp;
  }

  readonly nodeIds: readonly NodeId[];

  abstract readonly migrationsInFlight: readonly MigrationInFlightView[];
  abstract networkRttMs(userId: UserId, nodeId: NodeId): number;
  abstract nodesByRtt(userId: UserId): readonly NodeId[];

  /** Set the view's time and metrics window (after the backend closed the metric intervals up to `nowUs`). */
  protected setTime(nowUs: number): void {
    this.nowMs = nowUs / 1000;
    this.windowUs = this.state.observed.windowUs(nowUs);
    this.windowS = this.windowUs / 1e6;
    fillContainerColumns(this.state.observed, this.windowS, this.containerRatePerS, this.containerMeanServiceMs);
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
