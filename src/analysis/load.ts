/**
 * Edge of the analysis: reading run folders into ComparableRuns and request
 * traces into samples. Everything else in src/analysis is pure.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { ConmigError } from '../model/errors.ts';
import { hasRequestTrace, readRequestTrace, readRun } from '../results/read.ts';
import type { Scenario } from '../model/types.ts';
import type { MigrationRecord } from '../model/results.ts';
import { accessObservation, lazyServiceCollector, type LazyServiceSamples, type PhaseWall } from './calibrate.ts';
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

/** The file a live run writes next to migrations.csv: per migration, the wall-clock phases (src/live/run-live.ts). */
export const LIVE_MIGRATIONS_FILE = 'live-migrations.json';

const livePhasesSchema = z.array(
  z.looseObject({
    id: z.number().int(),
    result: z.looseObject({
      phases: z.array(z.looseObject({ phase: z.string(), wallMs: z.number(), startWallMs: z.number() })).optional(),
    }).optional(),
  }),
);

/**
 * The wall-clock phases per migration id from a live run's live-migrations.json; null when
 * the folder has none (a simulated run, or a live run written before the file existed).
 */
export async function readLivePhases(dir: string): Promise<Map<number, PhaseWall[]> | null> {
  const file = join(dir, LIVE_MIGRATIONS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConmigError('RESULT_INVALID', `cannot read ${file}: ${String(cause)}`, { context: { file }, cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConmigError('RESULT_INVALID', `${file} is not JSON: ${(cause as Error).message}`, { context: { file }, cause });
  }
  const parsed = livePhasesSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new ConmigError('RESULT_INVALID', `${file}: ${i.path.map(String).join('.') || '(root)'}: ${i.message} (expected a list of { id, result: { phases: [{ phase, wallMs, startWallMs }] } })`, {
      context: { file, path: i.path.map(String).join('.') },
    });
  }
  return new Map(parsed.data.filter((d) => d.result?.phases).map((d) => [d.id, d.result?.phases ?? []]));
}
