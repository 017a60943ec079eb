/**
 * Aggregation of multi-seed runs (pure): per policy, the mean over seeds of
 * each run-level metric with a Student-t confidence interval (seeds are
 * independent replications, so each run contributes one observation).
 */
import { ConmigError } from '../model/errors.ts';
import type { RunData } from '../model/results.ts';
import { runHealth } from './health.ts';
import { meanWithTCi, type MeanEstimate } from './stats.ts';

export const SEED_METRICS = ['meanMs', 'p50Ms', 'p95Ms', 'p99Ms', 'qosViolationFraction', 'migrations', 'bytesTotal'] as const;
export type SeedMetric = (typeof SEED_METRICS)[number];

export interface SeedAggregate {
  policy: string;
  /** Number of seeds (runs) of this policy. */
  n: number;
  seeds: number[];
  metrics: Record<SeedMetric, MeanEstimate>;
  /**
   * `seed N: sentence` for every seed whose figures leave out many requests or
   * migrations (analysis/health.ts): the means above then average over served
   * requests only, and a reader of seeds.html must see that as in report.html.
   */
  warnings: string[];
}

function metricOf(run: RunData, m: SeedMetric): number {
  const s = run.summary;
  switch (m) {
    case 'meanMs':
      return s.responseMs.meanMs;
    case 'p50Ms':
      return s.responseMs.p50Ms;
    case 'p95Ms':
      return s.responseMs.p95Ms;
    case 'p99Ms':
      return s.responseMs.p99Ms;
    case 'qosViolationFraction':
      return s.qos.fractionOver;
    case 'migrations':
      return s.migrations.count;
    case 'bytesTotal':
      return s.migrations.bytesTotal;
  }
}

/**
 * Per policy (in order of first appearance): mean and t-CI of every metric
 * over the seeds. All runs must be of one scenario (equal scenario hashes)
 * and a policy may not have the same seed twice: RESULT_MISMATCH otherwise.
 */
export function aggregateSeeds(runs: readonly RunData[], level = 0.95): SeedAggregate[] {
  if (runs.length === 0) throw new ConmigError('USAGE', 'aggregateSeeds needs at least one run', {});
  const hash = runs[0].summary.scenario.hash;
  const other = runs.find((r) => r.summary.scenario.hash !== hash);
  if (other) {
    throw new ConmigError(
      'RESULT_MISMATCH',
      `runs of different scenarios cannot be aggregated: "${runs[0].summary.scenario.name}" (hash ${hash}) and "${other.summary.scenario.name}" (hash ${other.summary.scenario.hash})`,
      { context: { hashes: [hash, other.summary.scenario.hash] } },
    );
  }
  const byPolicy = new Map<string, RunData[]>();
  for (const r of runs) {
    const list = byPolicy.get(r.summary.policy.name) ?? [];
    if (list.some((x) => x.summary.seed === r.summary.seed)) {
      throw new ConmigError('RESULT_MISMATCH', `seed ${r.summary.seed} appears twice for policy ${r.summary.policy.name}`, {
        context: { policy: r.summary.policy.name, seed: r.summary.seed },
      });
    }
    list.push(r);
    byPolicy.set(r.summary.policy.name, list);
  }
  return [...byPolicy].map(([policy, list]) => ({
    policy,
    n: list.length,
    seeds: list.map((r) => r.summary.seed),
    metrics: Object.fromEntries(SEED_METRICS.map((m) => [m, meanWithTCi(list.map((r) => metricOf(r, m)), level)])) as Record<
      SeedMetric,
      MeanEstimate
    >,
    warnings: list.flatMap((r) => runHealth(r.summary).warnings.map((w) => `seed ${r.summary.seed}: ${w}`)),
  }));
}
