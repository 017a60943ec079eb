/** What calibration takes and returns (calibrate.ts fits; the parts are in calibrate-fits.ts and calibrate-cost.ts). */
import type { RunData } from '../model/results.ts';
import type { MigrationCostParams, MigrationMode, Scenario, ServiceTimeSpec } from '../model/types.ts';

export interface ResidualSummary {
  meanMs: number;
  sdMs: number;
  maxAbsMs: number;
}

export interface FitRecord {
  /** e.g. "cold checkpoint", "postcopy transfer efficiency", "service time". */
  group: string;
  method: string;
  n: number;
  r2: number;
  rmse: number;
  residuals: ResidualSummary;
  note?: string;
}

export interface HeldOutError {
  dir?: string;
  seed: number;
  /** (simulated - measured) / measured */
  p50Rel: number;
  p95Rel: number;
  /** Of the mean downtime (NaN when either run has no migrations). */
  downtimeMeanRel: number;
  /** Paired (by container and order) downtimes: mean |relative error|. */
  downtimePairedMeanAbsRel: number;
  pairedMigrations: number;
}

export interface CalibrationResult {
  params: Partial<Record<MigrationMode, Partial<MigrationCostParams>>>;
  serviceTime?: ServiceTimeSpec;
  accessLatency?: { accessBaseMs: number; accessMsPerKm: number };
  fit: FitRecord[];
  /** Indices of the runs the parameters were fitted on. */
  trainedOn: number[];
  heldOut?: HeldOutError[];
}

/** Service times of the served requests of containers moved by post-copy (calibrate-cost.ts lazyServiceCollector). */
export interface LazyServiceSamples {
  /** Requests that reached the node during a lazy-pages phase: their service time and the node's speed factor. */
  lazy: Array<{ serviceMs: number; speedFactor: number }>;
  /** The same containers' requests outside any of their migrations, on the reference CPU (serviceMs x speedFactor). */
  otherRefMs: number[];
}

export interface CalibrateOptions {
  /** Prior cost constants (fixed slopes, defaults for what cannot be fitted). Default: the scenario's. */
  prior?: MigrationCostParams;
  /** Service times on the reference CPU, in ms (from requests.csv). */
  serviceSamplesMs?: readonly number[];
  /** One-way access latency of static users' requests vs their distance to the AP (see accessObservation). */
  accessObservations?: ReadonlyArray<{ distanceKm: number; accessMs: number }>;
  /** Service times of requests served during post-copy's lazy pages and outside migrations (lazyServiceCollector): fits postcopyFaultPenaltyMs. */
  lazyService?: LazyServiceSamples;
  /** Hold out the last K runs: fit on the others, simulate and report the error on these. */
  holdout?: number;
  /** The simulator, injected (the scenario's seed is set to the held-out run's). */
  simulate?: (scenario: Scenario) => Promise<RunData>;
  /** Run folders in the order of `liveRuns`, for the held-out report. */
  dirs?: readonly string[];
}
