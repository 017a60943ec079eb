/**
 * Synthetic runs for the analysis tests: a RunData whose histogram, summary and
 * migrations are built from given samples, in the shared result schema.
 */
import { LatencyHistogram, latencySummary } from '../../src/model/histogram.ts';
import { createRng, standardNormal, type Rng } from '../../src/model/random.ts';
import { RESULT_SCHEMA, type MigrationRecord, type RunData, type RunSummary } from '../../src/model/results.ts';
import type { ComparableRun } from '../../src/analysis/compare.ts';
import type { MigrationMode } from '../../src/model/types.ts';

/** n lognormal response times (median ~ medianMs, sigma of the log). */
export function lognormalSamples(rng: Rng, n: number, medianMs: number, sigma: number): number[] {
  return Array.from({ length: n }, () => medianMs * Math.exp(sigma * standardNormal(rng)));
}

export function migration(partial: Partial<MigrationRecord> & { id: number; containerId: string }): MigrationRecord {
  return {
    from: 'n1',
    to: 'n2',
    mode: 'cold' as MigrationMode,
    reason: 'test',
    startS: partial.id * 10,
    precopyRounds: 0,
    precopyMs: 0,
    checkpointMs: 100,
    transferMs: 300,
    restoreMs: 80,
    lazyPagesMs: 0,
    downtimeMs: 480,
    totalMs: 480,
    bytes: 64 * 1048576,
    status: 'ok',
    ...partial,
  };
}

export interface SyntheticRunOpts {
  label: string;
  samplesMs: readonly number[];
  migrations?: MigrationRecord[];
  mode?: 'sim' | 'live';
  hash?: string;
  name?: string;
  seed?: number;
  policy?: string;
  /** Attach the sorted samples (as if requests.csv were present). */
  withSamples?: boolean;
  userSeries?: RunData['userSeries'];
}

export function syntheticRun(o: SyntheticRunOpts): ComparableRun {
  const h = new LatencyHistogram();
  for (const x of o.samplesMs) h.record(x);
  const migrations = o.migrations ?? [];
  const downs = migrations.map((m) => m.downtimeMs);
  const summary: RunSummary = {
    schema: RESULT_SCHEMA,
    mode: o.mode ?? 'sim',
    scenario: { name: o.name ?? 'synthetic', hash: o.hash ?? 'abc123', file: '/tmp/synthetic.yaml' },
    policy: { name: o.policy ?? 'nearest', params: {} },
    seed: o.seed ?? 1,
    durationS: 600,
    warmupS: 0,
    qosThresholdMs: 100,
    requests: { generated: h.count, served: h.count, failed: 0, unfinished: 0 },
    responseMs: latencySummary(h),
    componentsMeanMs: { network: 10, queue: 5, service: h.mean - 15, migrationWait: 0 },
    qos: { thresholdMs: 100, fractionOver: h.fractionAbove(100), violations: Math.round(h.fractionAbove(100) * h.count), counted: h.count },
    migrations: {
      count: migrations.length,
      failed: 0,
      unfinished: 0,
      bytesTotal: migrations.reduce((a, m) => a + m.bytes, 0),
      downtimeMs: { mean: downs.length ? downs.reduce((a, b) => a + b, 0) / downs.length : 0, p95: 0, max: downs.length ? Math.max(...downs) : 0 },
      totalMs: { mean: 0, max: 0 },
    },
    nodes: { meanUtilisation: 0.5, maxUtilisation: 0.8 },
  };
  return {
    dir: `/results/${o.label}`,
    label: o.label,
    summary,
    timeseries: [],
    histogram: h.nonEmptyBuckets(),
    migrations,
    nodeLoad: [],
    userSeries: o.userSeries ?? null,
    ...(o.withSamples ? { samplesMs: Float64Array.from(o.samplesMs).sort() } : {}),
  };
}

export { createRng };
