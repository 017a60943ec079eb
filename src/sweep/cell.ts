/**
 * A cell's scenario: the base scenario's data as written, the cell's
 * overrides set into it, then the scenario schema and resolver exactly as
 * for a scenario file (so an overridden scenario is held to every rule a
 * written one is). Pure: paths are resolved and files checked through
 * injected functions.
 */
import { parseDocument } from 'yaml';
import type { PathSegment, ScenarioProblem } from '../model/scenario/problems.ts';
import { problemsFromZod } from '../model/scenario/problems.ts';
import { resolveScenario, type ScenarioOverrides } from '../model/scenario/resolve.ts';
import { ScenarioFileSchema } from '../model/scenario/schema.ts';
import type { Scenario } from '../model/types.ts';
import { applyOverride, parseOverridePath } from './paths.ts';
import type { PlanOverride } from './plan.ts';

/** The scenario's data as written (YAML to plain values); the text was validated before. */
export function scenarioData(text: string): Record<string, unknown> {
  const data: unknown = parseDocument(text, { uniqueKeys: true }).toJS({ maxAliasCount: 1000 });
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}

export interface CellIo {
  /** Absolute path of the base scenario file (Scenario.file). */
  file: string;
  resolvePath: (relative: string) => string;
  fileExists?: (resolved: string) => boolean;
}

export interface OverrideProblem {
  /** Index into the overrides. */
  override: number;
  /** A path that is not a path at all, or one that finds nothing in this scenario. */
  kind: 'syntax' | 'resolve';
  message: string;
}

export interface CellOutcome {
  scenario?: Scenario;
  /** An override whose path does not resolve in this scenario. */
  pathProblems: OverrideProblem[];
  /** Problems of the overridden scenario, at its paths. */
  problems: ScenarioProblem[];
  /** Per override, the concrete paths it set. */
  targets: PathSegment[][][];
}

/** Apply the overrides to a copy of `base` and validate and resolve the result. */
export function buildCell(base: Record<string, unknown>, overrides: readonly PlanOverride[], io: CellIo, scenarioOverrides?: ScenarioOverrides): CellOutcome {
  const data = structuredClone(base);
  const pathProblems: OverrideProblem[] = [];
  const targets: PathSegment[][][] = [];
  overrides.forEach((o, i) => {
    const parsed = parseOverridePath(o.path);
    if (!parsed.ok) {
      pathProblems.push({ override: i, kind: 'syntax', message: parsed.message });
      targets.push([]);
      return;
    }
    const applied = applyOverride(data, parsed.steps, o.value);
    if (!applied.ok) {
      pathProblems.push({ override: i, kind: 'resolve', message: applied.message });
      targets.push([]);
    } else targets.push(applied.targets);
  });
  // Validate what did apply even so: its problems are worth knowing in the same read.
  const parsed = ScenarioFileSchema.safeParse(data);
  if (!parsed.success) return { pathProblems, problems: problemsFromZod(parsed.error.issues, data), targets };
  const result = resolveScenario(parsed.data, { file: io.file, resolvePath: io.resolvePath, overrides: scenarioOverrides });
  const problems = [...result.problems];
  if (io.fileExists) {
    for (const ref of result.fileRefs) {
      if (!io.fileExists(ref.file)) problems.push({ path: ref.path, message: `expected an existing ${ref.what}, got ${JSON.stringify(ref.written)} (not found at ${ref.file})` });
    }
  }
  if (problems.length > 0 || pathProblems.length > 0) return { pathProblems, problems, targets };
  return { scenario: result.scenario, pathProblems, problems, targets };
}
