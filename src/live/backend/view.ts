/**
 * The live backend's state and its ClusterView (the shared base in src/cluster/view.ts):
 *
 *  - response, network and service times come from requests the emulated
 *    users COMPLETED (ObservedMetrics, the simulator's own windowed
 *    aggregates, filed at the scenario time the answer arrived), so the view
 *    is causal exactly like the simulator's; a request's migration wait (its
 *    retries while the container was down) is kept out of the response
 *    signals and reported apart, as in the simulator (LiveState.observe);
 *  - node utilisation is measured CPU time of the containers on the node
 *    (runc's cgroup counters, read over SSH each control step) divided by
 *    the node's speedFactor, over its cores in the scenario: 1 is the node's
 *    capacity (a CPU-limited node's limit), as in the simulator;
 *  - where each container runs is the backend's own record (verified with
 *    runc at the start and after each migration);
 *  - network RTT user -> node = the scenario's latency model at the user's
 *    current position (what the emulation imposes) + the base RTT of the
 *    path measured once at pre-flight.
 *
 * Times in the view are scenario time (nowMs, lastMigrationEndMs, startedMs);
 * latencies (response, network, service) are real milliseconds.
 */
import { ClusterState } from '../../cluster/state.ts';
import { ClusterViewBase } from '../../cluster/view.ts';
import type { NodeId, Scenario, UserId } from '../../model/types.ts';
import type { MigrationInFlightView } from '../../model/view.ts';
import type { UserMotion } from './motion.ts';
import type { RequestOutcome } from './request-outcome.ts';

export class LiveState extends ClusterState {
  readonly inFlight = new Map<number, MigrationInFlightView>();
  /** Measured base RTT of the path controller/users -> node (ms), without emulated delay. */
  readonly baseRttMs: Float64Array;

  constructor(
    scenario: Scenario,
    readonly motion: UserMotion,
  ) {
    super(scenario);
    this.baseRttMs = new Float64Array(this.nodeIds.length);
  }

  /** The emulated part of the RTT (ms): the latency model at the user's position at scenario time `scenUs`. */
  modelRttMs(u: number, n: number, scenUs: number): number {
    const p = this.motion.positionAt(u, scenUs);
    return this.latency.networkRttMsXY(p.xM, p.yM, this.motion.apOf(p), n, this.userPayloadKiB[u]);
  }

  /**
   * File a request's outcome into the view's windowed metrics, at the
   * scenario time its answer arrived (causal, like the simulator). Its
   * migration wait (time spent retrying while the container was down) is
   * passed apart, so the view keeps it out of the response signals exactly as
   * the simulator's does. Busy time comes from the CPU counters, not from here.
   */
  observe(r: RequestOutcome): void {
    // A late answer (over its timeout: failed) was still completed and measured, as in the simulator.
    if (!Number.isFinite(r.networkMs)) return;
    const speed = this.scenario.topology.nodes[r.n].speedFactor;
    this.observed.add(r.completionScenUs, r.c, r.n, r.responseMs * 1000, r.networkMs * 1000, 0, r.queueMs * 1000, r.serviceMs * 1000 * speed, r.waitMs * 1000);
  }
}

export class LiveClusterView extends ClusterViewBase {
  /** [u * N + n]: RTT (model at the user's position at nowMs + measured base). */
  private readonly rtt: Float64Array;
  private readonly orders: NodeId[][];

  constructor(override readonly state: LiveState) {
    super(state, new Int32Array(state.userIds.length));
    this.rtt = new Float64Array(state.userIds.length * state.nodeIds.length);
    this.orders = state.userIds.map(() => []);
    this.refresh(0);
  }

  /** Recompute positions, RTTs and node orders for scenario time `nowScenUs` (call after closing metric intervals). */
  refresh(nowScenUs: number): void {
    const st = this.state;
    this.setTime(nowScenUs);
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
    // Measured base RTTs and positions order the nodes: every user's order may change at every step.
    this.trackChanges(false);
  }

  get migrationsInFlight(): readonly MigrationInFlightView[] {
    return [...this.state.inFlight.values()];
  }

  networkRttMs(userId: UserId, nodeId: NodeId): number {
    const n = this.nodeIndexOf(nodeId);
    return this.rtt[this.userIndexOf(userId) * this.state.nodeIds.length + n];
  }

  nodesByRtt(userId: UserId): readonly NodeId[] {
    return this.orders[this.userIndexOf(userId)];
  }
}
