/**
 * Running one run of a plan into <out>/runs/<id>/: the cell's scenario is
 * rebuilt from the plan (the base scenario's text and the overrides) and run
 * by src/run's runScenario with
 * the run's policy and seed, so the folder is the one
 * `conmig run SCENARIO --policy P --seed N --out runs/<id> --no-report` writes.
 * done.json is written last: a folder without it is unfinished and is redone.
 * A failure is recorded in error.json and returned, never thrown, so one
 * failed run does not stop the others.
 *
 * Used by local workers (worker.ts) and Slurm array tasks alike. Keeps its
 * imports lean (no report, no chart libraries): it starts in every task.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ConmigError, isConmigError } from '../model/errors.ts';
import { formatPath } from '../model/scenario/problems.ts';
import { policyDirName, runScenario } from '../run/run-scenario.ts';
import { writeFileAtomic } from '../results/write.ts';
import { existsSync } from 'node:fs';
import { buildCell, scenarioData } from './cell.ts';
import { PLAN_FILE, PLAN_SCHEMA, RUN_DONE_FILE, RUN_ERROR_FILE, runDir, type PlanRun, type RunFailure, type RunMarker, type SweepPlan } from './plan.ts';

export { runDir };

/** Read <out>/sweep.json. */
export async function readPlan(outDir: string): Promise<SweepPlan> {
  const file = path.join(outDir, PLAN_FILE);
  let plan: SweepPlan;
  try {
    plan = JSON.parse(await readFile(file, 'utf8')) as SweepPlan;
  } catch (cause) {
    throw new ConmigError('RESULT_INVALID', `${file} is missing or not a sweep plan: is ${outDir} a sweep's output folder?`, { context: { file }, cause });
  }
  if (plan.schema !== PLAN_SCHEMA) throw new ConmigError('RESULT_INVALID', `${file}: expected schema ${PLAN_SCHEMA}, got ${JSON.stringify(plan.schema)}`, { context: { file } });
  return plan;
}

export interface ExecuteOptions {
  /** Fraction of the simulated time done (called every report window). */
  onProgress?: (fraction: number) => void;
}

/** `simMs`: wall time of the simulation alone (for benchmarks; never written into the run). */
export type RunOutcome = { status: 'ok'; marker: RunMarker; simMs: number } | { status: 'failed'; failure: RunFailure };

/** Parsed base scenarios, per plan, so a worker parses each scenario text once. */
const baseData = new WeakMap<SweepPlan, Map<number, Record<string, unknown>>>();

function baseOf(plan: SweepPlan, index: number): Record<string, unknown> {
  let m = baseData.get(plan);
  if (!m) baseData.set(plan, (m = new Map()));
  let d = m.get(index);
  if (!d) m.set(index, (d = scenarioData(plan.scenarios[index].text)));
  return d;
}

/**
 * Each cell's scenario hash, per plan, once known: scenarioHash leaves out the policies and
 * the seed (and counts a seed's draws as the rule that drew them), so it is one value per
 * cell, and hashing city-grid's resolved scenario costs tens of milliseconds, a run's
 * largest cost outside its simulation. The first run of a cell in a process computes it.
 */
const cellHashes = new WeakMap<SweepPlan, Map<number, string>>();

function hashesOf(plan: SweepPlan): Map<number, string> {
  let m = cellHashes.get(plan);
  if (!m) cellHashes.set(plan, (m = new Map()));
  return m;
}

export async function executeRun(plan: SweepPlan, run: PlanRun, outDir: string, opts: ExecuteOptions = {}): Promise<RunOutcome> {
  const dir = runDir(outDir, run.id);
  try {
    // A folder left by an interrupted attempt may hold files this attempt would not rewrite.
    if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const cell = plan.cells[run.cell - 1];
    const base = plan.scenarios[cell.scenario];
    const scenarioDir = path.dirname(base.file);
    const built = buildCell(baseOf(plan, cell.scenario), cell.overrides, { file: base.file, resolvePath: (p) => path.resolve(scenarioDir, p), fileExists: existsSync }, { policy: run.policy, seed: run.seed });
    if (!built.scenario) {
      const msgs = [...built.pathProblems.map((p) => `${cell.overrides[p.override].path}: ${p.message}`), ...built.problems.map((p) => `${formatPath(p.path)}: ${p.message}`)];
      throw new ConmigError('SCENARIO_INVALID', `cell ${cell.index} of ${base.label} no longer validates here: ${msgs.join('; ')}`);
    }
    let simMs = NaN;
    const hashes = hashesOf(plan);
    const { runs } = await runScenario(built.scenario, {
      outDir: dir,
      seed: run.seed,
      scenarioHash: hashes.get(cell.index),
      noReport: true,
      onProgress: opts.onProgress ? (_i, _name, f) => opts.onProgress!(f) : undefined,
      onRunWritten: (_name, _dir, _result, wallMs) => (simMs = wallMs),
    });
    // The summary has the hash already (hashing city-grid's resolved scenario again takes ~60 ms).
    hashes.set(cell.index, runs[0].data.summary.scenario.hash);
    const marker: RunMarker = { id: run.id, cell: run.cell, policy: run.policy, seed: run.seed, scenarioHash: runs[0].data.summary.scenario.hash, dir: policyDirName(runs[0].policy) };
    await writeFileAtomic(path.join(dir, RUN_DONE_FILE), JSON.stringify(marker, null, 2) + '\n');
    return { status: 'ok', marker, simMs };
  } catch (e) {
    const failure: RunFailure = {
      id: run.id,
      cell: run.cell,
      policy: run.policy,
      seed: run.seed,
      code: isConmigError(e) ? e.code : 'INTERNAL',
      message: e instanceof Error ? e.message : String(e),
    };
    await recordFailure(outDir, failure);
    return { status: 'failed', failure };
  }
}

/** Write error.json for a run (also used when a worker dies in the middle of one). */
export async function recordFailure(outDir: string, failure: RunFailure): Promise<void> {
  const dir = runDir(outDir, failure.id);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, RUN_ERROR_FILE), JSON.stringify(failure, null, 2) + '\n');
}
