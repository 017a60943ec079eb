/**
 * Loading a sweep file into its plan: read and validate the file (problems at
 * `<file>:<line>`, as for scenarios), read and validate every base scenario
 * (their own problems at their own lines), expand (expand.ts), and build
 * every cell's policies once so a bad parameter fails before any run.
 * Throws SWEEP_INVALID listing every problem, or SCENARIO_NOT_FOUND.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConmigError, isConmigError, type Problem } from '../model/errors.ts';
import { formatPath, problemsFromZod } from '../model/scenario/problems.ts';
import type { PolicyRef } from '../model/types.ts';
import { loadPolicy } from '../run/load-policy.ts';
import { checkScenarioText, lineOf, yamlData } from '../scenario-io/parse.ts';
import { MAX_SCENARIO_BYTES, readLimitedText } from '../scenario-io/read-limited.ts';
import { scenarioData, type CellIo } from './cell.ts';
import { expandSweep, type BaseScenario, type SweepProblem } from './expand.ts';
import type { PolicyIdentity } from './ids.ts';
import type { SweepPlan } from './plan.ts';
import { SweepFileSchema } from './schema.ts';

function readText(file: string, what: string): string {
  return readLimitedText(path.resolve(file), file, what, MAX_SCENARIO_BYTES, 'SCENARIO_NOT_FOUND');
}

function invalid(label: string, problems: Problem[]): ConmigError {
  const n = problems.length;
  return new ConmigError('SWEEP_INVALID', `sweep ${label} is invalid (${n} problem${n === 1 ? '' : 's'})`, { problems });
}

function ioFor(abs: string): CellIo {
  const dir = path.dirname(abs);
  return { file: abs, resolvePath: (p) => path.resolve(dir, p), fileExists: (p) => existsSync(p) };
}

function policyIdentity(ref: PolicyRef): PolicyIdentity {
  if (ref.module === undefined) return { name: ref.name, params: ref.params };
  return { name: ref.name, params: ref.params, moduleSha256: createHash('sha256').update(readFileSync(ref.module)).digest('hex') };
}

/** Load, validate and expand a sweep file. `label` names it in messages (default: as given). */
export async function loadSweep(file: string): Promise<SweepPlan> {
  const abs = path.resolve(file);
  const label = file;
  const text = readText(file, 'sweep file');
  const yaml = yamlData(text, label);
  if (!yaml.ok) throw invalid(label, yaml.problems);
  const { doc, lineCounter } = yaml;
  const data: unknown = yaml.data ?? {};
  const located = (ps: readonly SweepProblem[]): Problem[] =>
    ps
      .map((p) => ({ line: lineOf(doc, lineCounter, p.path), p }))
      .sort((a, b) => a.line - b.line)
      .map(({ line, p }) => ({ file: `${label}:${line}`, path: formatPath(p.path), message: p.message }));

  const parsed = SweepFileSchema.safeParse(data);
  if (!parsed.success) throw invalid(label, located(problemsFromZod(parsed.error.issues, data)));
  const sweep = parsed.data;

  // Base scenarios: each valid on its own, with its own file:line problems.
  const bases: BaseScenario[] = [];
  const problems: Problem[] = [];
  const names = new Map<string, number>();
  for (const [i, written] of sweep.scenarios.entries()) {
    const scenarioAbs = path.resolve(path.dirname(abs), written);
    const shown = path.relative(process.cwd(), scenarioAbs) || scenarioAbs;
    if (!existsSync(scenarioAbs)) {
      problems.push(...located([{ path: ['scenarios', i], message: `expected an existing scenario file, got ${JSON.stringify(written)} (not found at ${scenarioAbs})` }]));
      continue;
    }
    const scenarioText = await readText(scenarioAbs, 'scenario file');
    const io = ioFor(scenarioAbs);
    const outcome = checkScenarioText(scenarioText, shown, io);
    if (!outcome.scenario) {
      problems.push(...located([{ path: ['scenarios', i], message: `expected a valid scenario, got ${shown} with ${outcome.problems.length} problem(s) (below)` }]), ...outcome.problems);
      continue;
    }
    const seenAt = names.get(outcome.scenario.name);
    if (seenAt !== undefined) {
      problems.push(...located([{ path: ['scenarios', i], message: `expected scenarios with distinct names, got ${JSON.stringify(outcome.scenario.name)} again (also scenarios[${seenAt}])` }]));
      continue;
    }
    names.set(outcome.scenario.name, i);
    bases.push({ label: shown, text: scenarioText, data: scenarioData(scenarioText), scenario: outcome.scenario, io });
  }
  if (problems.length > 0) throw invalid(label, problems);

  const expanded = expandSweep({ sweep, file: abs, bases, policyIdentity });
  if (!expanded.plan) throw invalid(label, located(expanded.problems));
  // Scenario labels in the plan: as written in the sweep file, whatever the working directory.
  expanded.plan.scenarios.forEach((s, i) => (s.label = sweep.scenarios[i]));

  // Build each distinct policy once: a bad parameter fails here, not in run 57.
  const built = new Set<string>();
  const policyProblems: SweepProblem[] = [];
  for (const check of expanded.policyChecks) {
    const key = JSON.stringify([check.ref.name, check.ref.params, check.ref.module]);
    if (built.has(key)) continue;
    built.add(key);
    try {
      await loadPolicy(check.ref, check.scenario);
    } catch (e) {
      if (!isConmigError(e)) throw e;
      const details = e.problems.map((p) => `${p.path}: ${p.message}`).filter((d) => !e.message.includes(d));
      policyProblems.push({ path: check.path, message: `policy ${check.ref.name} (cell ${check.cell}): ${[e.message.replace(/\n/g, ' '), ...details].join('; ')}` });
    }
  }
  if (policyProblems.length > 0) throw invalid(label, located(policyProblems));
  return expanded.plan;
}
