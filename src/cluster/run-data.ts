/**
 * A run's RunData from its ResultCollector and migration records: the one
 * place the summary is computed, for simulated and live runs alike, so both
 * report every figure the same way.
 */
import type { Policy } from '../model/policy.ts';
import { RESULT_SCHEMA, type MigrationRecord, type RunData, type RunSummary } from '../model/results.ts';
import type { Scenario } from '../model/types.ts';
import { latencySummary } from '../model/histogram.ts';
import type { ResultCollector } from './collector.ts';
import { scenarioHash } from './scenario-hash.ts';

export interface RunDataInput {
  scenario: Scenario;
  policy: Policy;
  seed: number;
  mode: RunSummary['mode'];
  /** Scenario seconds actually covered (shorter than the scenario's for an interrupted live run). */
  durationS: number;
  collector: ResultCollector;
  migrations: MigrationRecord[];
  /** scenarioHash(scenario) computed once by the caller (default: computed here). */
  scenarioHash?: string;
}

const mean = (xs: readonly number[]): number => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const max = (xs: readonly number[]): number => xs.reduce((a, b) => (b > a ? b : a), xs.length > 0 ? -Infinity : Number.NaN);

export function buildRunData(i: RunDataInput): RunData {
  const { scenario: s, collector: col, migrations } = i;
  const h = col.overall();
  const served = col.served;
  const util = col.nodeUtilisation(Math.round(i.durationS * 1e6));
  const ok = migrations.filter((m) => m.status === 'ok');
  const downtimes = ok.map((m) => m.downtimeMs).filter(Number.isFinite).sort((a, b) => a - b);
  const totals = ok.map((m) => m.totalMs).filter(Number.isFinite);
  const p95 = downtimes.length > 0 ? downtimes[Math.min(downtimes.length - 1, Math.ceil(0.95 * downtimes.length) - 1)] : Number.NaN;
  const perServed = (x: number): number => (served > 0 ? x / served : Number.NaN);
  const summary: RunSummary = {
    schema: RESULT_SCHEMA,
    mode: i.mode,
    scenario: { name: s.name, hash: i.scenarioHash ?? scenarioHash(s), file: s.file },
    policy: { name: i.policy.name, params: { ...i.policy.params } },
    seed: i.seed,
    durationS: i.durationS,
    warmupS: s.warmupS,
    qosThresholdMs: s.qosThresholdMs,
    requests: { generated: col.generated, served, failed: col.failedTotal, unfinished: col.unfinished },
    responseMs: latencySummary(h),
    componentsMeanMs: {
      network: perServed(col.sumNetworkMs),
      queue: perServed(col.sumQueueMs),
      service: perServed(col.sumServiceMs),
      migrationWait: perServed(col.sumWaitMs),
    },
    qos: { thresholdMs: s.qosThresholdMs, ...col.qos() },
    migrations: {
      count: migrations.length,
      failed: migrations.filter((m) => m.status === 'failed' || m.status === 'rolled-back').length,
      unfinished: migrations.filter((m) => m.status === 'unfinished').length,
      bytesTotal: migrations.reduce((a, m) => a + m.bytes, 0),
      downtimeMs: { mean: mean(downtimes), p95, max: max(downtimes) },
      totalMs: { mean: mean(totals), max: max(totals) },
    },
    nodes: { meanUtilisation: mean(util), maxUtilisation: max(util) },
  };
  return {
    summary,
    timeseries: col.timeseries(),
    histogram: h.nonEmptyBuckets(),
    migrations,
    nodeLoad: col.nodeLoad(),
    userSeries: col.userSeries(),
  };
}
