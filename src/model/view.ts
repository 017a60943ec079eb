/**
 * The read-only view of the cluster that a policy decides on, and the decisions
 * it returns. The simulator and the live backend both build this view from
 * what a real controller could observe (windowed metrics), never from hidden
 * ground truth, and both carry out the decisions the same way.
 *
 * The view is an interface, not a plain snapshot object, so that a backend at
 * metro scale (10,000 containers, a decision every second) can answer from its
 * own arrays without copying them each control step.
 */
import type {
  ApId,
  ContainerId,
  MigrationCostParams,
  MigrationMode,
  NodeId,
  UserId,
} from './types.ts';

export interface NodeView {
  readonly id: NodeId;
  readonly cpuCores: number;
  readonly memoryMiB: number;
  /** Memory of containers hosted here plus memory reserved by incoming migrations. */
  readonly memoryUsedMiB: number;
  /** Busy fraction of the node's cores over the metrics window (0..1), background included. */
  readonly utilisation: number;
  /** Mean observed queueing delay of requests served here over the window. */
  readonly meanQueueMs: number;
  /** Mean observed service time (reference CPU) over the window; NaN if none. */
  readonly meanServiceMs: number;
  /** Requests per second that arrived at this node over the window. */
  readonly requestRatePerS: number;
  readonly speedFactor: number;
}

export interface ContainerView {
  readonly id: ContainerId;
  /** Node it runs on now (the source while a migration is in flight). */
  readonly nodeId: NodeId;
  readonly memoryMiB: number;
  readonly imageMiB: number;
  readonly dirtyRateMiBps: number;
  readonly users: readonly UserId[];
  readonly migrating: boolean;
  /** Scenario time the last migration of this container finished; -Infinity if never. */
  readonly lastMigrationEndMs: number;
  /** Requests per second for this container over the window. */
  readonly requestRatePerS: number;
  /** Mean service time observed for this container (reference CPU); NaN if none yet. */
  readonly meanServiceMs: number;
  /**
   * Mean response time of its requests over the window WITHOUT their
   * migration wait (network + queue + service: what the node and the network
   * gave them); NaN if none. A request the client held while this container
   * migrated counts with the latency it met once re-sent; its hold is in
   * meanMigrationWaitMs. Mean response as the users saw it =
   * meanResponseMs + meanMigrationWaitMs.
   */
  readonly meanResponseMs: number;
  /** Mean network part (RTT + transmission) of its requests over the window; NaN if none. */
  readonly meanNetworkMs: number;
  /**
   * Mean time its requests over the window were held by their clients while
   * this container migrated (its own downtime, as the requests met it; 0 for a
   * request that was not held); NaN if none.
   */
  readonly meanMigrationWaitMs: number;
  /** Response time of the most recent completed request, without its migration wait; NaN if none. */
  readonly lastResponseMs: number;
  /** Network part of the most recent completed request (its RTT when it was last sent); NaN if none. */
  readonly lastNetworkMs: number;
  /** Migration wait of the most recent completed request (0 if it was not held); NaN if none. */
  readonly lastMigrationWaitMs: number;
}

export interface UserView {
  readonly id: UserId;
  /** Access point the user is attached to now. */
  readonly apId: ApId;
  readonly containerId: ContainerId;
}

export interface MigrationInFlightView {
  readonly containerId: ContainerId;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly mode: MigrationMode;
  readonly startedMs: number;
}

/**
 * What changed since the view's previous step (refresh), so that a policy
 * asked every second about thousands of containers can skip the ones whose
 * inputs did not change. Optional: a backend may not offer it, and a policy
 * must decide the same with or without it (the built-in ones do: they fall
 * back to evaluating everything).
 *
 * Changes are relative to step `sinceStep` (the last step at which anyone
 * read `changes`; 0 = none: everything is listed as changed). A policy that
 * remembers something from step s may keep it only if `sinceStep === s`.
 * Indices are positions in `containers` and `nodes`.
 */
export interface ViewChanges {
  /** Counts the view's refreshes (1 at the first): this step. */
  readonly step: number;
  /** The step these changes are relative to (0: none, everything changed). */
  readonly sinceStep: number;
  /**
   * Containers whose own inputs changed: node, migrating, last migration
   * end, or any observed metric (windowed means and rate, last request).
   */
  readonly containers: readonly number[];
  /**
   * Containers one of whose users may have another RTT order or nearest
   * nodes than at the previous step (a handover; where RTTs depend on the
   * position, every container with users, every step).
   */
  readonly handovers: readonly number[];
  /** Nodes whose load changed: utilisation, queue, service, request rate, memory used or reserved. */
  readonly nodes: readonly number[];
  /** Per container: bit 1 = in `containers`, bit 2 = in `handovers`. */
  readonly containerFlags: Uint8Array;
  /** Per node: 1 = in `nodes`. */
  readonly nodeFlags: Uint8Array;
}

export const CHANGED_STATE = 1;
export const CHANGED_NETWORK = 2;

export interface ClusterView {
  /** Scenario time of this view. */
  readonly nowMs: number;
  readonly qosThresholdMs: number;
  readonly controlIntervalMs: number;
  readonly nodes: readonly NodeView[];
  readonly containers: readonly ContainerView[];
  readonly users: readonly UserView[];
  readonly migrationsInFlight: readonly MigrationInFlightView[];
  readonly defaultMigrationMode: MigrationMode;
  readonly migrationCost: MigrationCostParams;
  node(id: NodeId): NodeView;
  container(id: ContainerId): ContainerView;
  user(id: UserId): UserView;
  /**
   * Measured (live) or modelled (sim) network round trip in ms for a request
   * from this user to a node, including payload transmission.
   */
  networkRttMs(userId: UserId, nodeId: NodeId): number;
  /** Nodes ordered by network RTT from this user, nearest first (ties by id). */
  nodesByRtt(userId: UserId): readonly NodeId[];
  /** Bottleneck bandwidth and one-way latency of the backhaul path between two nodes. */
  path(from: NodeId, to: NodeId): { bandwidthMbps: number; latencyMs: number };
  /** What changed since the previous step, if the backend tracks it (see ViewChanges). */
  readonly changes?: ViewChanges;
}

export interface MigrationDecision {
  containerId: ContainerId;
  to: NodeId;
  /** Defaults to the scenario's migration mode. */
  mode?: MigrationMode;
  /** Why the policy decided this; recorded with the migration. */
  reason: string;
}
