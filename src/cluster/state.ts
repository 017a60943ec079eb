/**
 * The cluster's state as both backends keep it, in flat arrays indexed like
 * the scenario's nodes, containers and users: where each container runs,
 * which are migrating, memory used and reserved per node, the observed
 * (windowed, causal) metrics, and the latency model. The simulator updates it
 * from its events, the live backend from what it measures; the ClusterView
 * (view.ts) reads it the same way for both.
 */
import { ConmigError } from '../model/errors.ts';
import { BackhaulGraph, LatencyModel } from '../model/latency.ts';
import type { ContainerId, NodeId, Scenario, UserId } from '../model/types.ts';
import { US_PER_S } from '../model/units.ts';
import { ObservedMetrics } from './observed.ts';
import type { ObservedState } from './observed-view.ts';


export class ClusterState implements ObservedState {
  readonly nodeIds: readonly NodeId[];
  readonly nodeIndex = new Map<NodeId, number>();
  readonly containerIds: readonly ContainerId[];
  readonly containerIndex = new Map<ContainerId, number>();
  readonly userIds: readonly UserId[];
  readonly userIndex = new Map<UserId, number>();
  readonly graph: BackhaulGraph;
  readonly latency: LatencyModel;
  readonly observed: ObservedMetrics;
  /** Node each container runs on (the source while it migrates). */
  readonly containerNode: Int32Array;
  /** 1 from a migration's decision to its end. */
  readonly containerMigrating: Uint8Array;
  /** Scenario ms the last migration of each container finished (-Infinity if never). */
  readonly lastMigrationEndMs: Float64Array;
  /** Memory of the containers on each node. */
  readonly memUsedMiB: Float64Array;
  /** Memory reserved at each node by incoming migrations. */
  readonly memReservedMiB: Float64Array;
  /** Container serving each user. */
  readonly userContainer: Int32Array;
  /** Request + response KiB of each user's requests (the RTT's transmission part). */
  readonly userPayloadKiB: Float64Array;

  constructor(readonly scenario: Scenario) {
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
    this.observed = new ObservedMetrics(C, N, Math.round(s.controlIntervalS * US_PER_S), Math.round(s.metricsWindowS * US_PER_S));
    this.containerNode = new Int32Array(C);
    this.containerMigrating = new Uint8Array(C);
    this.lastMigrationEndMs = new Float64Array(C).fill(Number.NEGATIVE_INFINITY);
    this.memUsedMiB = new Float64Array(N);
    this.memReservedMiB = new Float64Array(N);
    // A resolved scenario places every container on a known node and serves every user:
    // these are checks of that invariant, not of user input.
    s.containers.forEach((c, i) => {
      const n = this.nodeIndex.get(c.node);
      if (n === undefined) throw new ConmigError('SCENARIO_INVALID', `container ${c.id} starts on unknown node ${c.node}`);
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

  /** Containers per node now. */
  containersPerNode(): Float64Array {
    const out = new Float64Array(this.nodeIds.length);
    for (let c = 0; c < this.containerNode.length; c++) out[this.containerNode[c]]++;
    return out;
  }

  /** Memory per node now: used plus reserved by incoming migrations. */
  memoryPerNodeMiB(): Float64Array {
    const mem = new Float64Array(this.nodeIds.length);
    for (let n = 0; n < mem.length; n++) mem[n] = this.memUsedMiB[n] + this.memReservedMiB[n];
    return mem;
  }

  /** The node serving each user now (for per-user series). */
  userNodes(): Int32Array {
    const out = new Int32Array(this.userIds.length);
    for (let u = 0; u < out.length; u++) out[u] = this.containerNode[this.userContainer[u]];
    return out;
  }
}
