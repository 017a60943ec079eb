/**
 * A sweep's plan: every cell and run, fully expanded and validated, written
 * as <out>/sweep.json before anything runs. Workers (local or Slurm array
 * tasks on other machines) read only this file: it carries each base
 * scenario's text, so compute nodes need the output folder, not the sweep's
 * scenario files (trace files and custom policy modules are read where the
 * scenario names them).
 *
 *   <out>/sweep.json               this plan
 *   <out>/runs/<id>/<policy>/...   each run's folder, as `conmig run` writes it
 *   <out>/runs/<id>/run.json       the run's identity, as `conmig run` writes it
 *   <out>/runs/<id>/done.json      written last: the run is finished
 *   <out>/runs/<id>/error.json     the run failed (it is retried on the next sweep)
 */
import path from 'node:path';

export const PLAN_SCHEMA = 'conmig-sweep/1';

export interface PlanScenario {
  /** The scenario's `name`. */
  name: string;
  /** As written in the sweep file (relative to it): the label in results and messages. */
  label: string;
  /** Absolute path; recorded in each run's summary.json as `conmig run` does. */
  file: string;
  /** The file's text when planned. */
  text: string;
  /** scenarioHash of the scenario without overrides. */
  hash: string;
}

export interface PlanOverride {
  /** Path as written in the sweep file, e.g. containers[*].memoryMiB. */
  path: string;
  value: unknown;
}

export interface PlanCell {
  /** 1-based, in plan order: per scenario, the grid's cells (first field outermost), then the points. */
  index: number;
  /** Index into `scenarios`. */
  scenario: number;
  /** Applied in this order (the order of `parameters`). */
  overrides: PlanOverride[];
  /**
   * Users x simulated seconds of the cell's scenario: a rough measure of its runs' cost, so a
   * pool starts the longest runs first (pool.ts). Absent in plans of older versions.
   */
  work?: number;
}

export interface PlanRun {
  /** Content-derived: base scenario hash, overrides, policy, seed (ids.ts). */
  id: string;
  /** PlanCell.index. */
  cell: number;
  policy: string;
  seed: number;
}

export interface SweepPlan {
  schema: typeof PLAN_SCHEMA;
  name: string;
  description: string;
  /** Absolute path of the sweep file. */
  file: string;
  /** Swept field paths, in column order. */
  parameters: string[];
  scenarios: PlanScenario[];
  cells: PlanCell[];
  runs: PlanRun[];
}

export const PLAN_FILE = 'sweep.json';
export const RUNS_DIR = 'runs';
export const RUN_DONE_FILE = 'done.json';
export const RUN_ERROR_FILE = 'error.json';

/** <out>/runs/<id>/ */
export function runDir(outDir: string, id: string): string {
  return path.join(outDir, RUNS_DIR, id);
}

/** What done.json holds: enough to check that the folder is this run's. */
export interface RunMarker {
  id: string;
  cell: number;
  policy: string;
  seed: number;
  /** summary.json's scenario hash (the cell's scenario: the same for every seed). */
  scenarioHash: string;
  /** The run folder `conmig run` wrote, relative to runs/<id>/. */
  dir: string;
}

export interface RunFailure {
  id: string;
  cell: number;
  policy: string;
  seed: number;
  code: string;
  message: string;
}
