/**
 * The node and container parts of a ClusterView, read from a backend's state
 * and its ObservedMetrics. The simulator and the live backend use these same
 * classes, so a policy sees every windowed metric computed the same way in
 * simulation and on hardware.
 */
import type { ContainerId, NodeId, Scenario, UserId } from '../model/types.ts';
import type { ContainerView, NodeView } from '../model/view.ts';
import type { ObservedMetrics } from './observed.ts';

/** What a backend must keep for the view (indices follow the scenario's nodes and containers). */
export interface ObservedState {
  readonly scenario: Scenario;
  readonly observed: ObservedMetrics;
  readonly memUsedMiB: Float64Array;
  /** Memory reserved at destinations by migrations in flight. */
  readonly memReservedMiB: Float64Array;
  readonly containerNode: Int32Array;
  readonly containerMigrating: Uint8Array;
  /** Scenario ms the last migration of each container ended; -Infinity if never. */
  readonly lastMigrationEndMs: Float64Array;
}

/** The view that owns the node and container views. */
export interface ObservedViewHost {
  readonly state: ObservedState;
  readonly nodeIds: readonly NodeId[];
  /** Length of the metrics window now (shorter at the start of a run). */
  readonly windowUs: number;
  /** windowUs / 1e6, computed once per step (the rates divide by it). */
  readonly windowS: number;
  /**
   * Per container, computed from the observed totals at each refresh (which follows the
   * backend's closeIntervals, the only place the totals change): requestRatePerS and
   * meanServiceMs, the two values a policy reads for every container at every step.
   */
  readonly containerRatePerS: Float64Array;
  readonly containerMeanServiceMs: Float64Array;
}

// The getters below read the state's typed arrays through references held by
// each view object (not this.v.state.observed.x; for containers, through one shared holder), and the two a policy reads for
// every container (rate, mean service) read a value the view computed at refresh:
// such a getter is a few bytecodes, which V8 always inlines (a "small function"),
// however large the policy's loop. A getter that is not inlined costs a call and a
// boxed double per read; with 10,000 containers read at every step that was most
// of traffic-aware's time per step. The arrays are allocated once per run.

export class ObservedNodeView implements NodeView {
  readonly id: NodeId;
  readonly cpuCores: number;
  readonly memoryMiB: number;
  readonly speedFactor: number;
  private readonly memUsed: Float64Array;
  private readonly memReserved: Float64Array;
  private readonly busyTot: Float64Array;
  private readonly countTot: Float64Array;
  private readonly queueTot: Float64Array;
  private readonly svcTot: Float64Array;
  constructor(
    private readonly v: ObservedViewHost,
    private readonly i: number,
  ) {
    const spec = v.state.scenario.topology.nodes[i];
    this.id = spec.id;
    this.cpuCores = spec.cpuCores;
    this.memoryMiB = spec.memoryMiB;
    this.speedFactor = spec.speedFactor;
    const o = v.state.observed;
    this.memUsed = v.state.memUsedMiB;
    this.memReserved = v.state.memReservedMiB;
    this.busyTot = o.nBusyTot;
    this.countTot = o.nCountTot;
    this.queueTot = o.nQueueTot;
    this.svcTot = o.nSvcTot;
  }
  get memoryUsedMiB(): number {
    return this.memUsed[this.i] + this.memReserved[this.i];
  }
  get utilisation(): number {
    return Math.max(0, this.busyTot[this.i]) / (this.cpuCores * this.v.windowUs);
  }
  get meanQueueMs(): number {
    const n = this.countTot[this.i];
    return n > 0.5 ? Math.max(0, this.queueTot[this.i]) / n / 1000 : 0;
  }
  get meanServiceMs(): number {
    const n = this.countTot[this.i];
    return n > 0.5 ? this.svcTot[this.i] / n / 1000 : Number.NaN;
  }
  get requestRatePerS(): number {
    return Math.max(0, this.countTot[this.i]) / this.v.windowS;
  }
}

/**
 * The per-container values the view computes at each refresh (see
 * ObservedViewHost.containerRatePerS): the getters' formulas, on the totals then.
 */
export function fillContainerColumns(o: ObservedMetrics, windowS: number, ratePerS: Float64Array, meanServiceMs: Float64Array): void {
  const count = o.cCountTot;
  const svc = o.cSvcTot;
  for (let c = 0; c < count.length; c++) {
    const n = count[c];
    ratePerS[c] = Math.max(0, n) / windowS;
    meanServiceMs[c] = n > 0.5 ? svc[c] / n / 1000 : Number.NaN;
  }
}

/**
 * The arrays the container views read, one object shared by all of them (a view
 * object holds only a reference to it: 10,000 view objects walked at every step
 * should stay small).
 */
class ContainerArrays {
  readonly node: Int32Array;
  readonly migrating: Uint8Array;
  readonly lastEndMs: Float64Array;
  readonly countTot: Float64Array;
  readonly ratePerS: Float64Array;
  readonly meanSvcMs: Float64Array;
  readonly respTot: Float64Array;
  readonly netTot: Float64Array;
  readonly waitTot: Float64Array;
  readonly lastMs: Float64Array;
  readonly lastNetUs: Float64Array;
  readonly lastWaitUs: Float64Array;
  constructor(v: ObservedViewHost) {
    const st = v.state;
    const o = st.observed;
    this.node = st.containerNode;
    this.migrating = st.containerMigrating;
    this.lastEndMs = st.lastMigrationEndMs;
    this.countTot = o.cCountTot;
    this.ratePerS = v.containerRatePerS;
    this.meanSvcMs = v.containerMeanServiceMs;
    this.respTot = o.cRespTot;
    this.netTot = o.cNetTot;
    this.waitTot = o.cWaitTot;
    this.lastMs = o.cLastMs;
    this.lastNetUs = o.cLastNetUs;
    this.lastWaitUs = o.cLastWaitUs;
  }
}
const containerArrays = new WeakMap<ObservedViewHost, ContainerArrays>();

export class ObservedContainerView implements ContainerView {
  readonly id: ContainerId;
  readonly memoryMiB: number;
  readonly imageMiB: number;
  readonly dirtyRateMiBps: number;
  readonly users: readonly UserId[];
  private readonly a: ContainerArrays;
  constructor(
    private readonly v: ObservedViewHost,
    private readonly i: number,
  ) {
    const spec = v.state.scenario.containers[i];
    this.id = spec.id;
    this.memoryMiB = spec.memoryMiB;
    this.imageMiB = spec.imageMiB;
    this.dirtyRateMiBps = spec.dirtyRateMiBps;
    this.users = spec.users.slice();
    let a = containerArrays.get(v);
    if (a === undefined) {
      a = new ContainerArrays(v);
      containerArrays.set(v, a);
    }
    this.a = a;
  }
  get nodeId(): NodeId {
    return this.v.nodeIds[this.a.node[this.i]];
  }
  get migrating(): boolean {
    return this.a.migrating[this.i] === 1;
  }
  get lastMigrationEndMs(): number {
    return this.a.lastEndMs[this.i];
  }
  get requestRatePerS(): number {
    return this.a.ratePerS[this.i]; // Math.max(0, cCountTot) / windowS, as of the refresh
  }
  get meanServiceMs(): number {
    return this.a.meanSvcMs[this.i]; // cSvcTot / cCountTot / 1000 (NaN without requests), as of the refresh
  }
  get meanResponseMs(): number {
    const n = this.a.countTot[this.i];
    return n > 0.5 ? this.a.respTot[this.i] / n / 1000 : Number.NaN;
  }
  get meanNetworkMs(): number {
    const n = this.a.countTot[this.i];
    return n > 0.5 ? this.a.netTot[this.i] / n / 1000 : Number.NaN;
  }
  get meanMigrationWaitMs(): number {
    // Running totals of non-integer waits (live) can leave -1e-12 once the window has none.
    const n = this.a.countTot[this.i];
    return n > 0.5 ? Math.max(0, this.a.waitTot[this.i] / n / 1000) : Number.NaN;
  }
  get lastResponseMs(): number {
    return this.a.lastMs[this.i];
  }
  get lastNetworkMs(): number {
    return this.a.lastNetUs[this.i] / 1000;
  }
  get lastMigrationWaitMs(): number {
    return this.a.lastWaitUs[this.i] / 1000;
  }
}
