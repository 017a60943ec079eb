/**
 * Edge of the analysis: reading run folders into ComparableRuns and request
 * traces into samples. Everything else in src/analysis is pure.
 */
import { basename, dirname } from 'node:path';
import { hasRequestTrace, readRequestTrace, readRun } from '../results/read.ts';
import type { Scenario } from '../model/types.ts';
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

/**
 * Service times of served requests on the reference CPU (serviceMs x the
 * serving node's speedFactor), from the runs' requests.csv; at most `max`.
 */
export async function loadServiceSamples(dirs: readonly string[], scenario: Scenario, max = 1_000_000): Promise<number[]> {
  const speed = new Map(scenario.topology.nodes.map((n) => [n.id, n.speedFactor]));
  const out: number[] = [];
  for (const dir of dirs) {
    for await (const r of readRequestTrace(dir)) {
      if (r.status !== 'served') continue;
      out.push(r.serviceMs * (speed.get(r.nodeId) ?? 1));
      if (out.length >= max) return out;
    }
  }
  return out;
}
