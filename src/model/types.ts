/**
 * Shared domain types of conmig. Pure data: no I/O, no clock.
 *
 * Units are in the names: `Ms` milliseconds, `Us` microseconds, `S` seconds,
 * `M` metres, `MiB` mebibytes, `Mbps` megabits per second.
 * Scenario time (simulated, or scaled wall-clock in live mode) is what the
 * model sees; it never reads a clock.
 */

export type NodeId = string;
export type ApId = string;
export type UserId = string;
export type ContainerId = string;

export interface Point {
  xM: number;
  yM: number;
}

// ---------------------------------------------------------------------------
// Topology (resolved: every generator expanded to explicit lists)
// ---------------------------------------------------------------------------

export interface EdgeNodeSpec {
  id: NodeId;
  position: Point;
  cpuCores: number;
  memoryMiB: number;
  /** Background CPU utilisation from other tenants, 0..1 of the node's cores. */
  backgroundLoad: number;
  /** Service times on this node are divided by this factor (1 = reference CPU). */
  speedFactor: number;
  /**
   * Present when the node's capacity is a CFS bandwidth limit (a testbed node's cgroup):
   * its period. Each core then runs at the reference speed until speedFactor x period of
   * CPU is used in a period (src/model/cpu-bandwidth.ts).
   */
  cpuPeriodMs?: number;
}

export interface AccessPointSpec {
  id: ApId;
  position: Point;
  /** Backhaul vertex (an edge node or a switch) the access point is wired to. */
  attachedTo: string;
}

export interface LinkSpec {
  /** Backhaul vertices: edge node ids or switch ids. */
  a: string;
  b: string;
  /** One-way propagation + forwarding latency. */
  latencyMs: number;
  bandwidthMbps: number;
}

export interface Topology {
  areaM: { width: number; height: number };
  nodes: EdgeNodeSpec[];
  /** Backhaul vertices that host no containers (routers/switches). */
  switches: string[];
  accessPoints: AccessPointSpec[];
  links: LinkSpec[];
}

// ---------------------------------------------------------------------------
// Latency model parameters
// ---------------------------------------------------------------------------

/**
 * Geometric model: one-way access latency = accessBaseMs + accessMsPerKm * distance(user, AP);
 * backhaul = sum of link latencies on the shortest path AP vertex -> node;
 * payload transmission = (requestKiB + responseKiB) * 8 / bottleneck bandwidth.
 * Network RTT = 2 * (access + backhaul) + transmission.
 */
export interface GeometricLatencyParams {
  kind: 'geometric';
  accessBaseMs: number;
  accessMsPerKm: number;
}

/**
 * ShareOn's linear model (decision.py): network latency to edge e is
 * |C_e - p| ms, where C_e is a per-edge constant and p is the user's
 * position along the path expressed in ms (p = xM * msPerM).
 */
export interface LinearLatencyParams {
  kind: 'linear';
  edgeConstantsMs: Record<NodeId, number>;
  msPerM: number;
}

export type LatencyModelParams = GeometricLatencyParams | LinearLatencyParams;

// ---------------------------------------------------------------------------
// Service times and request workload
// ---------------------------------------------------------------------------

export type ServiceTimeSpec =
  | { kind: 'exponential'; meanMs: number }
  | { kind: 'deterministic'; valueMs: number }
  | { kind: 'lognormal'; meanMs: number; sdMs: number }
  /** Samples in ms; `name` documents where they came from. */
  | { kind: 'empirical'; samplesMs: number[]; name?: string };

export interface RequestSpec {
  /** Poisson arrival rate per user. */
  ratePerS: number;
  requestKiB: number;
  responseKiB: number;
  /** A request waiting longer than this for a migrating container fails. */
  timeoutMs: number;
}

// ---------------------------------------------------------------------------
// Mobility
// ---------------------------------------------------------------------------

export type MobilitySpec =
  | { kind: 'static' }
  | {
      kind: 'random-waypoint';
      speedMps: [number, number];
      pauseS: [number, number];
    }
  | {
      kind: 'manhattan';
      /** Street spacing of the grid (blocks are square). */
      blockM: number;
      speedMps: [number, number];
      /** Probability of turning (left or right, equally) at an intersection. */
      turnProbability: number;
      pauseS: [number, number];
    }
  | {
      kind: 'straight-path';
      from: Point;
      to: Point;
      speedMps: number;
      /** What to do at the end: stop, or walk back and forth. */
      atEnd: 'stop' | 'bounce';
    }
  | {
      kind: 'trace';
      /** Path to the trace file, resolved relative to the scenario file. */
      file: string;
      format: 'csv' | 'cabspotting';
    };

export interface UserSpec {
  id: UserId;
  start: Point;
  /**
   * The start was drawn from the seed (`start: random`): the scenario hash
   * counts the rule, not the point (src/cluster/scenario-hash.ts).
   */
  startDrawn?: boolean;
  mobility: MobilitySpec;
  requests: RequestSpec;
}

// ---------------------------------------------------------------------------
// Containers and migration
// ---------------------------------------------------------------------------

export type MigrationMode = 'cold' | 'precopy' | 'postcopy';

export interface ContainerSpec {
  id: ContainerId;
  /** Node the container starts on. */
  node: NodeId;
  /**
   * Set when that node may depend on the seed (drawn at random, nearest to a
   * drawn start, or placed after such a container took memory): the rule that
   * placed it, which the scenario hash counts instead of the node.
   */
  placedBy?: 'nearest' | 'random' | 'round-robin';
  memoryMiB: number;
  /** Root filesystem/image that must be copied unless cached at the destination. */
  imageMiB: number;
  /** Rate at which the running process dirties memory pages. */
  dirtyRateMiBps: number;
  users: UserId[];
  serviceTime: ServiceTimeSpec;
}

/**
 * Per-phase constants of the migration cost model. Each phase is
 * `base + perMiB * size`; transfers run at `transferEfficiency * bandwidth`
 * plus one path RTT of setup. All can be fitted from live runs.
 */
export interface MigrationCostParams {
  checkpointBaseMs: number;
  checkpointMsPerMiB: number;
  restoreBaseMs: number;
  restoreMsPerMiB: number;
  /** Goodput as a fraction of link bandwidth (protocol + tar + ssh overhead). */
  transferEfficiency: number;
  /**
   * Fixed start-up of every transfer (ssh session, tar on both ends), on top of the
   * path RTT: transfer(x) = transferBaseMs + 2 l + megabits(x) / (eta W). Absent: 0
   * (optional so that scenarios without it resolve, and hash, as before).
   */
  transferBaseMs?: number;
  /** Image layers already present at every destination (no rootfs copy). */
  imageCached: boolean;
  /** Pre-copy: stop iterating when the dirty set is below this. */
  precopyStopMiB: number;
  precopyMaxRounds: number;
  /** Post-copy: process state that moves during the stop (registers, fds, page tables). */
  postcopyStateMiB: number;
  /** Post-copy: extra delay per request while pages are still being fetched. */
  postcopyFaultPenaltyMs: number;
  /**
   * How a cold migration moves memory: `disk` dumps the checkpoint to disk, then
   * copies it; `stream` (disk-less: CRIU's page server) sends pages as the dump
   * writes them, so the dump and the transfer overlap. Absent: disk (optional so
   * that scenarios without it resolve, and hash, as before).
   */
  coldTransport?: ColdTransport;
  /**
   * Post-copy: goodput of the background page fetch (lazy pages) as a fraction
   * of link bandwidth. Absent: transferEfficiency.
   */
  lazyPagesEfficiency?: number;
  /**
   * Probability that a restored container answers only restoreStallMs after its restore
   * ended (a stall outside the phases, drawn per migration; on the testbed about 1 in 20
   * restored containers answered its first health check 3.5-4.5 s late). Absent: 0.
   */
  restoreStallProbability?: number;
  /** Length of that stall in ms (downtime, counted in the restore phase). Absent: 0. */
  restoreStallMs?: number;
}

/** How a cold migration's memory reaches the destination (MigrationCostParams.coldTransport). */
export type ColdTransport = 'disk' | 'stream';

export interface MigrationSpec {
  mode: MigrationMode;
  cost: MigrationCostParams;
}

// ---------------------------------------------------------------------------
// Policy configuration
// ---------------------------------------------------------------------------

export type BuiltinPolicyName = 'never' | 'nearest' | 'threshold' | 'traffic-aware';

export interface PolicyRef {
  /** Built-in name, or a label for a custom policy module. */
  name: string;
  /** For custom policies: path to a TypeScript/JS module whose default export is `definePolicy(...)`. */
  module?: string;
  params: Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// The scenario (resolved)
// ---------------------------------------------------------------------------

export interface Scenario {
  name: string;
  description: string;
  /** Absolute path of the file it was loaded from ('' when built in code). */
  file: string;
  mode: 'sim' | 'live';
  seed: number;
  durationS: number;
  /** Metrics before this are not reported (the system fills up). */
  warmupS: number;
  controlIntervalS: number;
  /** Width of the sliding window the controller observes. */
  metricsWindowS: number;
  /** Width of the result time series buckets. */
  reportIntervalS: number;
  qosThresholdMs: number;
  latency: LatencyModelParams;
  topology: Topology;
  users: UserSpec[];
  containers: ContainerSpec[];
  migration: MigrationSpec;
  /** One or more policies; with several, each is run on the same random streams. */
  policies: PolicyRef[];
  output: {
    /** Write every request to requests.csv (large). */
    requestTrace: boolean;
    /** Write a latency series per user (default on for <= 100 users). */
    perUserSeries: boolean;
  };
  live?: LiveScenarioOptions;
}

export interface LiveScenarioOptions {
  /** Inventory file of the nodes (relative to the scenario). */
  inventory: string;
  /** Scenario seconds per wall-clock second (>= 1 compresses a long scenario). */
  timeScale: number;
  /** Failed requests during downtime: retry until timeout, or count as failed at once. */
  onDowntime: 'retry' | 'fail';
  /** Container name on the nodes for each scenario container id. */
  containerNames: Record<ContainerId, string>;
  /** HTTP path the emulated users request (absent: /plate, the plate service; the synthetic service: /work). */
  requestPath?: string;
}
