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
}

export class ObservedNodeView implements NodeView {
  readonly id: NodeId;
  readonly cpuCores: number;
  readonly memoryMiB: number;
  readonly speedFactor: number;
  constructor(
    private readonly v: ObservedViewHost,
    private readonly i: number,
  ) {
    const spec = v.state.scenario.topology.nodes[i];
    this.id = spec.id;
    this.cpuCores = spec.cpuCores;
    this.memoryMiB = spec.memoryMiB;
    this.speedFactor = spec.speedFactor;
  }
  get memoryUsedMiB(): number {
    return this.v.state.memUsedMiB[this.i] + this.v.state.memReservedMiB[this.i];
  }
  get utilisation(): number {
    return Math.max(0, this.v.state.observed.nBusyTot[this.i]) / (this.cpuCores * this.v.windowUs);
  }
  get meanQueueMs(): number {
    const o = this.v.state.observed;
    const n = o.nCountTot[this.i];
    return n > 0.5 ? Math.max(0, o.nQueueTot[this.i]) / n / 1000 : 0;
  }
  get meanServiceMs(): number {
    const o = this.v.state.observed;
    const n = o.nCountTot[this.i];
    return n > 0.5 ? o.nSvcTot[this.i] / n / 1000 : Number.NaN;
  }
  get requestRatePerS(): number {
    return Math.max(0, this.v.state.observed.nCountTot[this.i]) / (this.v.windowUs / 1e6);
  }
}

export class ObservedContainerView implements ContainerView {
  readonly id: ContainerId;
  readonly memoryMiB: number;
  readonly imageMiB: number;
  readonly dirtyRateMiBps: number;
  readonly users: readonly UserId[];
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
  }
  get nodeId(): NodeId {
    return this.v.nodeIds[this.v.state.containerNode[this.i]];
  }
  get migrating(): boolean {
    return this.v.state.containerMigrating[this.i] === 1;
  }
  get lastMigrationEndMs(): number {
    return this.v.state.lastMigrationEndMs[this.i];
  }
  private mean(tot: Float64Array): number {
    const n = this.v.state.observed.cCountTot[this.i];
    return n > 0.5 ? tot[this.i] / n / 1000 : Number.NaN;
  }
  get requestRatePerS(): number {
    return Math.max(0, this.v.state.observed.cCountTot[this.i]) / (this.v.windowUs / 1e6);
  }
  get meanServiceMs(): number {
    return this.mean(this.v.state.observed.cSvcTot);
  }
  get meanResponseMs(): number {
    return this.mean(this.v.state.observed.cRespTot);
  }
  get meanNetworkMs(): number {
    return this.mean(this.v.state.observed.cNetTot);
  }
  get meanMigrationWaitMs(): number {
    // Running totals of non-integer waits (live) can leave -1e-12 once the window has none.
    const m = this.mean(this.v.state.observed.cWaitTot);
    return Number.isNaN(m) ? m : Math.max(0, m);
  }
  get lastResponseMs(): number {
    return this.v.state.observed.cLastMs[this.i];
  }
  get lastNetworkMs(): number {
    return this.v.state.observed.cLastNetUs[this.i] / 1000;
  }
  get lastMigrationWaitMs(): number {
    return this.v.state.observed.cLastWaitUs[this.i] / 1000;
  }
}
