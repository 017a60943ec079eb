/**
 * Edge of the analysis: reading run folders into ComparableRuns and request
 * traces into samples. Everything else in src/analysis is pure.
 */
import { basename, dirname } from 'node:path';
import { hasRequestTrace, readRequestTrace, readRun } from '../results/read.ts';
import type { Scenario } from '../model/types.ts';
import type { MigrationRecord } from '../model/results.ts';
import { accessObservation, lazyServiceCollector, type LazyServiceSamples } from './calibrate.ts';
import type { ComparableRun } from './compare.ts';

/** Above this many requests the samples are not kept (histograms are used instead). */
export const MAX_SAMPLES = 5_000_000;

/** Labels from folder names, made unique with the parent folder (and then an index). */
export function runLabels(dirs: readonly string[]): string[] {
  const first = dirs.map((d) => basename(d));
  const second = dirs.map((d, i) => (first.filter((x) => x === first[i]).length > 1 ? `${basename(dirname(d))}/${first[i]}` : first[i]));
  return second.map((l, i) => (second.filter((x) => x === l).length > 1 ? `${l}#${i + 1}` : l));
}

export interface LoadedRun extends ComparableRun {
  /** Why requests.csv was present but not used, if so. */
  sampleNote?: string;
}

/**
 * Read a result folder (RESULT_INVALID naming the folder and file when it is
 * not one). When requests.csv is present, the served response times after
 * warm-up become `samplesMs` if their count matches the histogram's.
 */
export async function loadComparableRun(dir: string, label: string): Promise<LoadedRun> {
  const run = await readRun(dir);
  const out: LoadedRun = { ...run, label };
  if (!(await hasRequestTrace(run.dir))) return out;
  const expected = run.summary.responseMs.count;
  if (expected > MAX_SAMPLES) {
    out.sampleNote = `requests.csv has more than ${MAX_SAMPLES} served requests: using the histogram`;
    return out;
  }
  const samples = new Float64Array(expected);
  let n = 0;
  for await (const r of readRequestTrace(run.dir)) {
    if (r.status !== 'served' || r.sentS < run.summary.warmupS) continue;
    if (n < expected) samples[n] = r.responseMs;
    n++;
  }
  if (n !== expected) {
    out.sampleNote = `requests.csv has ${n} served requests after warm-up but latency-hist.csv counts ${expected}: using the histogram`;
    return out;
  }
  out.samplesMs = samples.sort();
  return out;
}

export interface RequestSamples {
  /** Service times on the reference CPU: serviceMs x the serving node's speedFactor. */
  serviceMs: number[];
  /** Static users' one-way access latency vs distance to their AP (see accessObservation). */
  access: Array<{ distanceKm: number; accessMs: number }>;
  /** Service times during post-copy's lazy pages and outside migrations (when migrations were given). */
  lazyService?: LazyServiceSamples;
}

/**
 * One pass over the runs' requests.csv: served requests' service times on the
 * reference CPU and access-latency observations; at most `max` of each.
 */
export async function loadRequestSamples(
  dirs: readonly string[],
  scenario: Scenario,
  max = 1_000_000,
  migrations?: ReadonlyArray<readonly MigrationRecord[]>,
): Promise<RequestSamples> {
  const speed = new Map(scenario.topology.nodes.map((n) => [n.id, n.speedFactor]));
  const toAccess = accessObservation(scenario);
  const out: RequestSamples = { serviceMs: [], access: [] };
  const lazyService: LazyServiceSamples = { lazy: [], otherRefMs: [] };
  const lazyRuns = migrations?.map((m) => m.some((x) => x.mode === 'postcopy' && x.lazyPagesMs > 0)) ?? [];
  if (lazyRuns.some(Boolean)) out.lazyService = lazyService;
  for (const [i, dir] of dirs.entries()) {
    const lazy = lazyRuns[i] && migrations ? lazyServiceCollector(migrations[i], scenario, lazyService) : null;
    for await (const r of readRequestTrace(dir)) {
      if (lazy && lazyService.lazy.length + lazyService.otherRefMs.length < max) lazy.add(r);
      if (r.status !== 'served') continue;
      if (out.serviceMs.length < max) out.serviceMs.push(r.serviceMs * (speed.get(r.nodeId) ?? 1));
      const a = out.access.length < max ? toAccess(r) : null;
      if (a) out.access.push(a);
      if (out.serviceMs.length >= max && out.access.length >= max && !lazy) return out;
    }
    lazy?.finish();
  }
  return out;
}
