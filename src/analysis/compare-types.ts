/** What a comparison takes and returns (compare.ts computes it). */
import type { MigrationRecord, RunData } from '../model/results.ts';
import type { KsResult, PairedErrors, PercentileEstimate } from './stats.ts';
import type { CompareTolerance } from './tolerance.ts';

export interface ComparableRun extends RunData {
  dir: string;
  label: string;
  /** Served response times after warm-up, ascending (from requests.csv), when available. */
  samplesMs?: Float64Array;
}

export const COMPARED_PERCENTILES = [0.5, 0.9, 0.95, 0.99] as const;

export interface CompareOptions {
  tolerance?: Partial<CompareTolerance>;
  /** Compare runs whose scenario hashes differ (the differences are still listed). */
  allowMismatch?: boolean;
  /** Confidence level of the percentile CIs. Default 0.95. */
  level?: number;
}

export type VerdictValue = 'agree' | 'disagree' | 'n/a';

export interface ScenarioDifference {
  field: 'name' | 'policy' | 'seed' | 'durationS' | 'mode' | 'hash';
  /** One value per run, in run order. */
  values: string[];
}

export interface RunStats {
  label: string;
  dir: string;
  mode: 'sim' | 'live';
  policy: string;
  seed: number;
  count: number;
  meanMs: number;
  source: 'samples' | 'histogram';
  percentiles: PercentileEstimate[];
  migrations: number;
}

export interface Verdict {
  metric: string;
  /** Label of the run judged against the reference. */
  run: string;
  reference: string;
  verdict: VerdictValue;
  /** The judged quantity (relative error, or D); NaN when n/a. */
  value: number;
  tolerance: number;
  sentence: string;
}

export interface PercentileComparison {
  q: number;
  run: string;
  referenceMs: number;
  valueMs: number;
  relError: number;
}

export interface KsComparison extends KsResult {
  run: string;
  reference: string;
}

export interface MigrationPair {
  containerId: string;
  /** k-th migration of the container (0-based) in both runs. */
  k: number;
  reference: Pick<MigrationRecord, 'id' | 'from' | 'to' | 'mode' | 'downtimeMs' | 'totalMs' | 'bytes'>;
  other: Pick<MigrationRecord, 'id' | 'from' | 'to' | 'mode' | 'downtimeMs' | 'totalMs' | 'bytes'>;
  /** The two migrations did not go between the same nodes. */
  routeDiffers: boolean;
}

export interface MigrationComparison {
  run: string;
  reference: string;
  pairs: MigrationPair[];
  unpairedReference: number;
  unpairedOther: number;
  downtime: PairedErrors;
  total: PairedErrors;
  bytes: PairedErrors;
}

export interface ComparisonResult {
  reference: string;
  sameScenario: boolean;
  differences: ScenarioDifference[];
  tolerance: CompareTolerance;
  level: number;
  runs: RunStats[];
  percentiles: PercentileComparison[];
  ks: KsComparison[];
  migrations: MigrationComparison[];
  verdicts: Verdict[];
  /** Every verdict that could be judged agrees. */
  agree: boolean;
}
