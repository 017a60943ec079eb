/**
 * The result schema shared by simulated and live runs. One run = one
 * (scenario, policy, seed) in one folder:
 *
 *   summary.json        RunSummary (below)
 *   timeseries.csv      TimeseriesRow per report window
 *   latency-hist.csv    HistogramBucketRow: the whole run's response-time histogram (for CDFs)
 *   migrations.csv      MigrationRecord per migration
 *   node-load.csv       NodeLoadRow per (window, node)
 *   user-series.csv     UserSeriesRow per (window, user)     (optional)
 *   requests.csv        RequestRecord per request            (optional, large)
 *
 * Results are deterministic: nothing that depends on the wall clock (run
 * time, host name) is written into a simulated run's files, so the same
 * scenario and seed give byte-identical files.
 */
import type { ColdTransport, MigrationMode, NodeId } from './types.ts';

export const RESULT_SCHEMA = 'conmig-result/1';

export interface LatencySummary {
  count: number;
  meanMs: number;
  minMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface RunSummary {
  schema: typeof RESULT_SCHEMA;
  mode: 'sim' | 'live';
  scenario: {
    name: string;
    /** sha256 of the resolved scenario without its policy list: equal hashes = same experiment. */
    hash: string;
    file: string;
  };
  policy: { name: string; params: Record<string, unknown> };
  seed: number;
  durationS: number;
  warmupS: number;
  qosThresholdMs: number;
  requests: {
    /** Requests sent after warm-up. generated = served + failed + unfinished. */
    generated: number;
    served: number;
    failed: number;
    /** Still in the system when the run ended. */
    unfinished: number;
  };
  responseMs: LatencySummary;
  /** Mean of each part of the response time of served requests. */
  componentsMeanMs: {
    network: number;
    queue: number;
    service: number;
    migrationWait: number;
  };
  /**
   * QoS violations over the requests whose outcome is known: `violations` are
   * served requests slower than the threshold, failed requests, and unfinished
   * ones sent more than the threshold before the end; `counted` is served +
   * failed + those late unfinished ones (only unfinished requests sent within
   * the last threshold of the run are left out). fractionOver = violations /
   * counted. (Folders written before these counts were added had fractionOver
   * over served requests only; read back, their `counted` is `served`.)
   */
  qos: { thresholdMs: number; fractionOver: number; violations: number; counted: number };
  migrations: {
    count: number;
    /** Failed or rolled back. */
    failed: number;
    /** Still running when the run ended (NaN when read from a folder written before this count). */
    unfinished: number;
    bytesTotal: number;
    downtimeMs: { mean: number; p95: number; max: number };
    totalMs: { mean: number; max: number };
  };
  nodes: { meanUtilisation: number; maxUtilisation: number };
  /** Live runs only: inventory, kernel, CRIU and runc versions, time scale. */
  environment?: Record<string, unknown>;
}

export interface TimeseriesRow {
  windowStartS: number;
  requests: number;
  failed: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  networkMeanMs: number;
  queueMeanMs: number;
  serviceMeanMs: number;
  migrationWaitMeanMs: number;
  overQosFraction: number;
  migrationsStarted: number;
}

export interface HistogramBucketRow {
  lowerMs: number;
  upperMs: number;
  count: number;
}

/** `unfinished`: still in flight when the run ended (phases so far are filled in). */
export type MigrationStatus = 'ok' | 'failed' | 'rolled-back' | 'unfinished';

export interface MigrationRecord {
  id: number;
  containerId: string;
  from: NodeId;
  to: NodeId;
  mode: MigrationMode;
  reason: string;
  /** Scenario time the migration started. */
  startS: number;
  /** Pre-copy rounds while running (0 for cold and post-copy). */
  precopyRounds: number;
  /** Durations of the phases (src/model/phases.ts, RECORD_PHASE_COLUMNS): `predump` rounds in all. */
  precopyMs: number;
  checkpointMs: number;
  transferMs: number;
  restoreMs: number;
  /** Post-copy's `lazy-pages`: time after restore until the last page arrived. */
  lazyPagesMs: number;
  /** Time the service did not answer. */
  downtimeMs: number;
  totalMs: number;
  bytes: number;
  status: MigrationStatus;
  /**
   * Cold only: `stream` when memory went disk-less over CRIU's page server (the
   * dump and the transfer overlap; transferMs then runs from the start of the
   * checkpoint phase to the last image landing), `disk` or absent otherwise.
   * An optional migrations.csv column, written only when a row sets it.
   */
  transport?: ColdTransport;
}

export interface NodeLoadRow {
  windowStartS: number;
  nodeId: NodeId;
  utilisation: number;
  requests: number;
  containers: number;
  memoryUsedMiB: number;
  meanQueueMs: number;
}

export interface UserSeriesRow {
  windowStartS: number;
  userId: string;
  requests: number;
  meanMs: number;
  /** Node that served the user's container at the end of the window. */
  nodeId: NodeId;
}

export type RequestStatus = 'served' | 'failed';

export interface RequestRecord {
  userId: string;
  containerId: string;
  nodeId: NodeId;
  sentS: number;
  status: RequestStatus;
  responseMs: number;
  networkMs: number;
  queueMs: number;
  serviceMs: number;
  migrationWaitMs: number;
}

/** Everything a run produces except the optional per-request trace (streamed by the producer). */
export interface RunData {
  summary: RunSummary;
  timeseries: TimeseriesRow[];
  histogram: HistogramBucketRow[];
  migrations: MigrationRecord[];
  nodeLoad: NodeLoadRow[];
  /** null when the scenario did not ask for per-user series. */
  userSeries: UserSeriesRow[] | null;
}
