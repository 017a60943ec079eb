/**
 * Expanding a validated sweep file into its plan (pure): per base scenario,
 * the grid's cells (every combination, first field outermost) then the
 * listed points; every cell's scenario validated and resolved like a written
 * one; then cell x policy x seed runs with content-derived ids.
 *
 * Problems are located in the sweep file (a path there, for a line): a value
 * that does not fit at the value, a path that does not resolve at the path,
 * a problem of the overridden scenario that no single override explains at
 * the cell's last value, naming the whole cell.
 */
import { BUILTIN_POLICY_NAMES } from '../model/scenario/defaults.ts';
import { formatPath, suggest, type PathSegment, type ScenarioProblem } from '../model/scenario/problems.ts';
import type { PolicyRef, Scenario } from '../model/types.ts';
import { parseSeedList } from '../run/seed-list.ts';
import { scenarioHash } from '../cluster/scenario-hash.ts';
import { buildCell, type CellIo } from './cell.ts';
import { runId, stableJson, type PolicyIdentity } from './ids.ts';
import { isWithin, parseOverridePath } from './paths.ts';
import { PLAN_SCHEMA, type PlanCell, type PlanOverride, type PlanRun, type PlanScenario, type SweepPlan } from './plan.ts';
import type { SweepFile } from './schema.ts';

export interface BaseScenario {
  /** As written in the sweep file. */
  label: string;
  text: string;
  /** The file's data as written (see cell.ts scenarioData). */
  data: Record<string, unknown>;
  /** The base scenario, resolved (it was validated on its own first). */
  scenario: Scenario;
  io: CellIo;
}

export interface ExpandInput {
  sweep: SweepFile;
  /** Absolute path of the sweep file. */
  file: string;
  bases: readonly BaseScenario[];
  /** Identity of a policy for run ids (the io layer hashes a custom module's text). */
  policyIdentity: (ref: PolicyRef) => PolicyIdentity;
}

/** A problem at a path of the sweep file. */
export interface SweepProblem {
  path: PathSegment[];
  message: string;
}

/** A policy of a cell, for the io layer to build once before anything runs (bad parameters fail early). */
export interface PolicyCheck {
  cell: number;
  ref: PolicyRef;
  scenario: Scenario;
  path: PathSegment[];
}

export interface ExpandResult {
  plan?: SweepPlan;
  problems: SweepProblem[];
  policyChecks: PolicyCheck[];
}

interface CellDraft {
  overrides: PlanOverride[];
  /** Per override: where its value is in the sweep file, and where its path is. */
  valueAt: PathSegment[][];
  keyAt: PathSegment[][];
}

/** The swept paths in column order: the grid's, then new ones from the points. */
function parametersOf(sweep: SweepFile): string[] {
  const out = Object.keys(sweep.grid ?? {});
  for (const p of sweep.points ?? []) for (const k of Object.keys(p)) if (!out.includes(k)) out.push(k);
  return out;
}

function cellDrafts(sweep: SweepFile, parameters: readonly string[]): CellDraft[] {
  const grid = sweep.grid ?? {};
  const keys = Object.keys(grid);
  const drafts: CellDraft[] = [];
  if (keys.length > 0) {
    const idx = keys.map(() => 0);
    for (;;) {
      drafts.push({
        overrides: keys.map((k, j) => ({ path: k, value: grid[k][idx[j]] })),
        valueAt: keys.map((k, j) => ['grid', k, idx[j]]),
        keyAt: keys.map((k) => ['grid', k]),
      });
      let j = keys.length - 1;
      while (j >= 0 && ++idx[j] === grid[keys[j]].length) idx[j--] = 0;
      if (j < 0) break;
    }
  }
  (sweep.points ?? []).forEach((point, i) => {
    const ks = parameters.filter((k) => k in point);
    drafts.push({ overrides: ks.map((k) => ({ path: k, value: point[k] })), valueAt: ks.map((k) => ['points', i, k]), keyAt: ks.map((k) => ['points', i, k]) });
  });
  if (drafts.length === 0) drafts.push({ overrides: [], valueAt: [], keyAt: [] });
  return drafts;
}

function describeCell(overrides: readonly PlanOverride[]): string {
  return `{ ${overrides.map((o) => `${o.path}: ${JSON.stringify(o.value)}`).join(', ')} }`;
}

function seedsOf(sweep: SweepFile, problems: SweepProblem[]): number[] | undefined {
  const s = sweep.seeds;
  if (s === undefined) return undefined;
  if (typeof s === 'number') return [s];
  if (Array.isArray(s)) {
    const unique = [...new Set(s)];
    if (unique.length !== s.length) problems.push({ path: ['seeds'], message: `expected distinct seeds, got ${s.join(', ')}` });
    return unique;
  }
  try {
    return parseSeedList(s);
  } catch (e) {
    problems.push({ path: ['seeds'], message: (e as Error).message.replace(/^--seeds: /, '') });
    return undefined;
  }
}

/** The policy `name` means in a cell: the scenario's entry (with its params) or a built-in. */
function policyRef(name: string, scenario: Scenario): PolicyRef | string {
  const listed = scenario.policies.find((p) => p.name === name);
  if (listed) return listed;
  if ((BUILTIN_POLICY_NAMES as readonly string[]).includes(name)) return { name, params: {} };
  const known = [...scenario.policies.map((p) => p.name), ...BUILTIN_POLICY_NAMES];
  const hint = suggest(name, known);
  return `expected one of the scenario's policies (${scenario.policies.map((p) => p.name).join(', ')}) or a built-in (${BUILTIN_POLICY_NAMES.join(', ')}), got ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`;
}

/** Locate a problem of an overridden scenario in the sweep file. */
function locate(p: ScenarioProblem, draft: CellDraft, targets: readonly PathSegment[][][], label: string): SweepProblem {
  const where = `${label}: ${formatPath(p.path) || '(root)'}`;
  for (let j = 0; j < draft.overrides.length; j++) {
    const inside = targets[j].find((t) => isWithin(p.path, t));
    if (inside && p.message.startsWith('unknown key') && p.path.length === inside.length) {
      return { path: draft.keyAt[j], message: `does not resolve in ${label}: ${p.message}` };
    }
    if (inside || targets[j].some((t) => isWithin(t, p.path))) return { path: draft.valueAt[j], message: `${p.message} (${where})` };
  }
  const last = draft.valueAt.length - 1;
  return { path: last >= 0 ? draft.valueAt[last] : [], message: `in cell ${describeCell(draft.overrides)}: ${where}: ${p.message}` };
}

export function expandSweep(input: ExpandInput): ExpandResult {
  const { sweep, bases } = input;
  const problems: SweepProblem[] = [];
  const seen = new Set<string>();
  const problem = (p: SweepProblem): void => {
    const key = `${formatPath(p.path)}\u0000${p.message.replace(/ \([^()]*: [^()]*\)$/, '')}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push(p);
  };
  const policyChecks: PolicyCheck[] = [];

  const parameters = parametersOf(sweep);
  for (const [k, values] of Object.entries(sweep.grid ?? {})) {
    const parsed = parseOverridePath(k);
    if (!parsed.ok) problem({ path: ['grid', k], message: parsed.message });
    const texts = values.map(stableJson);
    texts.forEach((t, i) => {
      if (texts.indexOf(t) !== i) problem({ path: ['grid', k, i], message: `expected distinct values, got ${t} again (also at [${texts.indexOf(t)}])` });
    });
  }
  (sweep.points ?? []).forEach((point, i) => {
    for (const k of Object.keys(point)) {
      const parsed = parseOverridePath(k);
      if (!parsed.ok) problem({ path: ['points', i, k], message: parsed.message });
    }
  });
  // Go on after these: the cells may have problems of their own, and all are worth one read.
  const seeds = seedsOf(sweep, problems);

  const drafts = cellDrafts(sweep, parameters);
  const scenarios: PlanScenario[] = [];
  const cells: PlanCell[] = [];
  const runs: PlanRun[] = [];
  const cellKeys = new Map<string, number>();
  const runIds = new Set<string>();

  bases.forEach((base, s) => {
    if (base.scenario.mode === 'live') {
      problem({ path: ['scenarios', s], message: `expected a simulated scenario, got ${JSON.stringify(base.label)} with mode: live (sweeps run in the simulator)` });
      return;
    }
    const hash = scenarioHash(base.scenario);
    scenarios.push({ name: base.scenario.name, label: base.label, file: base.scenario.file, text: base.text, hash });
    for (const draft of drafts) {
      const index = cells.length + 1;
      const key = `${s}\u0000${stableJson(draft.overrides)}`;
      const dup = cellKeys.get(key);
      if (dup !== undefined) {
        // Within the grid only repeated values repeat a cell, and those were reported.
        if (draft.keyAt[0]?.[0] === 'points') problem({ path: draft.keyAt[0].slice(0, 2), message: `expected distinct cells, got the overrides of cell ${dup} again: ${describeCell(draft.overrides)}` });
        continue;
      }
      cellKeys.set(key, index);
      const built = buildCell(base.data, draft.overrides, base.io);
      // A path that does not parse was reported above, once.
      for (const pp of built.pathProblems) if (pp.kind === 'resolve') problem({ path: draft.keyAt[pp.override], message: `does not resolve in ${base.label}: ${pp.message}` });
      for (const p of built.problems) problem(locate(p, draft, built.targets, base.label));
      if (!built.scenario) continue;
      const cellScenario = built.scenario;
      cells.push({ index, scenario: scenarios.length - 1, overrides: draft.overrides, work: cellScenario.users.length * cellScenario.durationS });
      const names = sweep.policies ?? cellScenario.policies.map((p) => p.name);
      // A policy's parameters set by this cell are the cell's to answer for.
      const setsPolicies = draft.overrides.findIndex((o) => /^polic(y|ies)\b/.test(o.path));
      names.forEach((name, k) => {
        const ref = policyRef(name, cellScenario);
        const at: PathSegment[] = setsPolicies >= 0 ? draft.valueAt[setsPolicies] : sweep.policies ? ['policies', k] : ['scenarios', s];
        if (typeof ref === 'string') {
          problem({ path: at, message: `${ref} (${base.label})` });
          return;
        }
        policyChecks.push({ cell: index, ref, scenario: cellScenario, path: at });
        const identity = input.policyIdentity(ref);
        for (const seed of seeds ?? [base.scenario.seed]) {
          const id = runId({ scenarioHash: hash, overrides: draft.overrides, policy: identity, seed });
          if (runIds.has(id)) {
            problem({ path: at, message: `expected distinct runs, got run ${id} (${name}, seed ${seed}) twice` });
            continue;
          }
          runIds.add(id);
          runs.push({ id, cell: index, policy: name, seed });
        }
      });
    }
  });
  if (problems.length > 0) return { problems, policyChecks };
  const plan: SweepPlan = {
    schema: PLAN_SCHEMA,
    name: sweep.name,
    description: sweep.description ?? '',
    file: input.file,
    parameters,
    scenarios,
    cells,
    runs,
  };
  return { plan, problems, policyChecks };
}
