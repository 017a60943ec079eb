/**
 * What a sweep's output folder says about each run: done (done.json names
 * the plan's run, and its summary.json is there and says the scenario hash,
 * policy and seed done.json recorded), failed (error.json), or pending. Read-only; the folder
 * is the only state, so local workers, Slurm tasks on other machines and a
 * rerun after a crash all agree on it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunSummary } from '../model/results.ts';
import { RUN_DONE_FILE, RUN_ERROR_FILE, runDir, type PlanRun, type RunFailure, type RunMarker, type SweepPlan } from './plan.ts';

export type RunState = { state: 'done'; marker: RunMarker; summaryDir: string } | { state: 'failed'; failure: RunFailure } | { state: 'pending' };

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function runState(plan: SweepPlan, run: PlanRun, outDir: string): Promise<RunState> {
  const dir = runDir(outDir, run.id);
  const marker = await readJson<RunMarker>(path.join(dir, RUN_DONE_FILE));
  // The id covers what the run is (ids.ts); the summary must be the one the marker was written for.
  if (marker && marker.id === run.id && marker.policy === run.policy && marker.seed === run.seed && typeof marker.dir === 'string') {
    const summaryDir = path.join(dir, marker.dir);
    const summary = await readJson<RunSummary>(path.join(summaryDir, 'summary.json'));
    if (summary && summary.scenario?.hash === marker.scenarioHash && summary.seed === run.seed && summary.policy?.name === run.policy) return { state: 'done', marker, summaryDir };
  }
  const failure = await readJson<RunFailure>(path.join(dir, RUN_ERROR_FILE));
  if (failure && failure.id === run.id) return { state: 'failed', failure };
  return { state: 'pending' };
}

/** Every run's state, in plan order (reads a few small files per run, 32 at a time). */
export async function runStates(plan: SweepPlan, outDir: string): Promise<RunState[]> {
  const out: RunState[] = new Array(plan.runs.length);
  for (let i = 0; i < plan.runs.length; i += 32) {
    const batch = plan.runs.slice(i, i + 32);
    const states = await Promise.all(batch.map((r) => runState(plan, r, outDir)));
    states.forEach((s, k) => (out[i + k] = s));
  }
  return out;
}

export interface StateCounts {
  total: number;
  done: number;
  failed: number;
  pending: number;
}

export function countStates(states: readonly RunState[]): StateCounts {
  const c = { total: states.length, done: 0, failed: 0, pending: 0 };
  for (const s of states) c[s.state]++;
  return c;
}
