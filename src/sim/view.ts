/**
 * The simulator's ClusterView: the shared view over the cluster state and
 * its observed (windowed, causal) metrics (src/cluster/view.ts), with the
 * users where the simulator has them now: access points from its handover
 * events, RTTs from the latency model at the user's position.
 */
import { ClusterViewBase } from '../cluster/view.ts';
import type { ClusterState } from '../cluster/state.ts';
import type { NodeId, UserId } from '../model/types.ts';
import type { MigrationInFlightView } from '../model/view.ts';

/** What the view needs from the simulator. */
export interface SimViewHost {
  readonly state: ClusterState;
  /** Each user's access point index now (updated at handovers). */
  readonly userAp: Int32Array;
  readonly engine: { readonly now: number };
  inFlightMigrations(): MigrationInFlightView[];
  /** Network RTT (ms) of user u's request to node n at time t (µs). */
  rttMs(u: number, n: number, timeUs: number): number;
  /** Node indices by RTT from user u now. */
  nodeOrder(u: number): readonly number[];
}

export class SimClusterView extends ClusterViewBase {
  private readonly idOrders = new WeakMap<readonly number[], readonly NodeId[]>();

  constructor(private readonly sim: SimViewHost) {
    super(sim.state, sim.userAp);
  }

  refresh(nowUs: number): void {
    this.setTime(nowUs);
    // Geometric RTTs order the nodes by AP (latency.ts nodesByRtt); the linear model by position.
    this.trackChanges(this.state.latency.params.kind === 'geometric');
  }

  get migrationsInFlight(): readonly MigrationInFlightView[] {
    return this.sim.inFlightMigrations();
  }

  networkRttMs(userId: UserId, nodeId: NodeId): number {
    const n = this.nodeIndexOf(nodeId);
    return this.sim.rttMs(this.userIndexOf(userId), n, this.sim.engine.now);
  }

  nodesByRtt(userId: UserId): readonly NodeId[] {
    const order = this.sim.nodeOrder(this.userIndexOf(userId));
    let ids = this.idOrders.get(order);
    if (ids === undefined) {
      ids = order.map((i) => this.nodeIds[i]);
      this.idOrders.set(order, ids);
    }
    return ids;
  }
}
