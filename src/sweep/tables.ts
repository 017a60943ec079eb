/**
 * The merged tables of a sweep (pure), in plan order so that whatever ran the
 * runs (one worker, many, a Slurm array) the bytes are the same:
 *
 *   results.csv  one row per finished run: run id, scenario, cell, one column per
 *                swept field (the path as the column name; empty where a point
 *                leaves it at the scenario's value), policy, seed, the cell's
 *                scenario hash, then every number of the run's summary.json
 *   cells.csv    per cell, policy and metric (SEED_METRICS): n seeds, mean, sd and
 *                the 95% Student-t interval (src/analysis/seeds.ts)
 *   failed.csv   runs that failed, with the error
 *
 * Numbers are written as JavaScript prints them (what summary.json holds);
 * NaN (e.g. the mean downtime of a run without migrations) as an empty cell,
 * which pandas reads as NaN and R as NA.
 */
import { aggregateSeeds, SEED_METRICS, type SeedAggregate } from '../analysis/seeds.ts';
import type { RunData, RunSummary } from '../model/results.ts';
import { formatNumber, quoteField } from '../results/csv.ts';
import type { PlanCell, PlanRun, RunFailure, SweepPlan } from './plan.ts';

export interface FinishedRun {
  run: PlanRun;
  summary: RunSummary;
}

type SummaryColumn = readonly [name: string, get: (s: RunSummary) => number];

/** Every number of summary.json, flattened with dots (qos.thresholdMs is qosThresholdMs again). */
export const SUMMARY_COLUMNS: readonly SummaryColumn[] = [
  ['durationS', (s) => s.durationS],
  ['warmupS', (s) => s.warmupS],
  ['qosThresholdMs', (s) => s.qosThresholdMs],
  ['requests.generated', (s) => s.requests.generated],
  ['requests.served', (s) => s.requests.served],
  ['requests.failed', (s) => s.requests.failed],
  ['requests.unfinished', (s) => s.requests.unfinished],
  ['responseMs.count', (s) => s.responseMs.count],
  ['responseMs.meanMs', (s) => s.responseMs.meanMs],
  ['responseMs.minMs', (s) => s.responseMs.minMs],
  ['responseMs.p50Ms', (s) => s.responseMs.p50Ms],
  ['responseMs.p90Ms', (s) => s.responseMs.p90Ms],
  ['responseMs.p95Ms', (s) => s.responseMs.p95Ms],
  ['responseMs.p99Ms', (s) => s.responseMs.p99Ms],
  ['responseMs.maxMs', (s) => s.responseMs.maxMs],
  ['componentsMeanMs.network', (s) => s.componentsMeanMs.network],
  ['componentsMeanMs.queue', (s) => s.componentsMeanMs.queue],
  ['componentsMeanMs.service', (s) => s.componentsMeanMs.service],
  ['componentsMeanMs.migrationWait', (s) => s.componentsMeanMs.migrationWait],
  ['qos.fractionOver', (s) => s.qos.fractionOver],
  ['qos.violations', (s) => s.qos.violations],
  ['qos.counted', (s) => s.qos.counted],
  ['migrations.count', (s) => s.migrations.count],
  ['migrations.failed', (s) => s.migrations.failed],
  ['migrations.unfinished', (s) => s.migrations.unfinished],
  ['migrations.bytesTotal', (s) => s.migrations.bytesTotal],
  ['migrations.downtimeMs.mean', (s) => s.migrations.downtimeMs.mean],
  ['migrations.downtimeMs.p95', (s) => s.migrations.downtimeMs.p95],
  ['migrations.downtimeMs.max', (s) => s.migrations.downtimeMs.max],
  ['migrations.totalMs.mean', (s) => s.migrations.totalMs.mean],
  ['migrations.totalMs.max', (s) => s.migrations.totalMs.max],
  ['nodes.meanUtilisation', (s) => s.nodes.meanUtilisation],
  ['nodes.maxUtilisation', (s) => s.nodes.maxUtilisation],
];

/** A swept value as a CSV cell: numbers as printed, lists and mappings as compact JSON. */
export function valueCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return formatNumber(v, 'exact');
  if (typeof v === 'string') return quoteField(v);
  if (typeof v === 'boolean') return String(v);
  return quoteField(JSON.stringify(v));
}

const num = (x: number): string => formatNumber(x, 'exact');

function paramCells(plan: SweepPlan, cell: PlanCell): string[] {
  return plan.parameters.map((p) => valueCell(cell.overrides.find((o) => o.path === p)?.value));
}

function identity(plan: SweepPlan, run: Pick<PlanRun, 'id' | 'cell' | 'policy' | 'seed'>): string[] {
  const cell = plan.cells[run.cell - 1];
  return [run.id, quoteField(plan.scenarios[cell.scenario].name), String(cell.index), ...paramCells(plan, cell), quoteField(run.policy), String(run.seed)];
}

const line = (cells: readonly string[]): string => cells.join(',');

export function resultsCsv(plan: SweepPlan, finished: readonly FinishedRun[]): string {
  // A swept top-level number (qosThresholdMs, durationS, warmupS) is also a summary
  // number: one column, holding the value the run had (also where a point leaves it).
  const summaryCols = SUMMARY_COLUMNS.filter(([n]) => !plan.parameters.includes(n));
  const both = new Map(SUMMARY_COLUMNS.filter(([n]) => plan.parameters.includes(n)).map(([n, get]) => [plan.parameters.indexOf(n), get]));
  const head = ['run', 'scenario', 'cell', ...plan.parameters, 'policy', 'seed', 'scenarioHash', ...summaryCols.map(([n]) => n)];
  const rows = finished.map(({ run, summary }) => {
    const id = identity(plan, run);
    for (const [i, get] of both) id[3 + i] = num(get(summary));
    return line([...id, summary.scenario.hash, ...summaryCols.map(([, get]) => num(get(summary)))]);
  });
  return [line(head.map(quoteField)), ...rows].join('\n') + '\n';
}

export function failedCsv(plan: SweepPlan, failures: readonly RunFailure[]): string {
  const head = ['run', 'scenario', 'cell', ...plan.parameters, 'policy', 'seed', 'code', 'message'];
  const byId = new Map(plan.runs.map((r) => [r.id, r]));
  const rows = failures.map((f) => line([...identity(plan, byId.get(f.id) ?? f), quoteField(f.code), quoteField(f.message.replace(/\s+/g, ' '))]));
  return [line(head.map(quoteField)), ...rows].join('\n') + '\n';
}

export interface CellAggregate {
  cell: PlanCell;
  /** Per policy, in plan order. */
  policies: SeedAggregate[];
}

/** Per cell with at least one finished run: per policy, mean and 95% CI of each metric over the seeds. */
export function aggregateCells(plan: SweepPlan, finished: readonly FinishedRun[]): CellAggregate[] {
  const byCell = new Map<number, RunData[]>();
  for (const f of finished) {
    const list = byCell.get(f.run.cell) ?? [];
    // aggregateSeeds reads only summaries, and refuses runs of different scenario hashes:
    // a cell's seeds have one (what a seed draws is hashed as the rule that drew it).
    list.push({ summary: f.summary, timeseries: [], histogram: [], migrations: [], nodeLoad: [], userSeries: null });
    byCell.set(f.run.cell, list);
  }
  return plan.cells.flatMap((cell) => {
    const runs = byCell.get(cell.index);
    return runs ? [{ cell, policies: aggregateSeeds(runs) }] : [];
  });
}

export function cellsCsv(plan: SweepPlan, cells: readonly CellAggregate[]): string {
  const head = ['scenario', 'cell', ...plan.parameters, 'policy', 'metric', 'n', 'mean', 'sd', 'ciLow', 'ciHigh'];
  const rows: string[] = [];
  for (const { cell, policies } of cells) {
    for (const a of policies) {
      for (const m of SEED_METRICS) {
        const e = a.metrics[m];
        rows.push(line([quoteField(plan.scenarios[cell.scenario].name), String(cell.index), ...paramCells(plan, cell), quoteField(a.policy), m, String(e.n), num(e.mean), num(e.sd), num(e.ci.lo), num(e.ci.hi)]));
      }
    }
  }
  return [line(head.map(quoteField)), ...rows].join('\n') + '\n';
}
