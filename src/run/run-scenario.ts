/**
 * Run a scenario's policies one after another on the same seed (common random
 * numbers), write each run's folder as soon as it finishes (a failure later
 * never loses earlier results), then the combined report.
 *
 *   <outDir>/<policy>/summary.json, *.csv    one run folder per policy
 *   <outDir>/report.html, charts/*.svg       the report over all of them
 */
import { mkdir, rm } from 'node:fs/promises';
import { ConmigError } from '../model/errors.ts';
import path from 'node:path';
import type { RunData } from '../model/results.ts';
import type { Scenario } from '../model/types.ts';
import { createRequestTraceWriter, writeRun, writeRunIdentity } from '../results/index.ts';
import { scenarioHash, simulate, type SimulateResult } from '../sim/simulator.ts';
import { createTraceStore } from '../mobility/index.ts';
import { loadPolicy } from './load-policy.ts';

export interface RunScenarioOptions {
  outDir: string;
  seed?: number;
  /** Progress of the policy being simulated (index among the policies, fraction done). */
  onProgress?: (policyIndex: number, policyName: string, fraction: number) => void;
  /** Called when a run's folder has been written. */
  onRunWritten?: (policyName: string, dir: string, result: SimulateResult, wallMs: number) => void;
  /** Skip the HTML/SVG report (multi-seed runs write one report at the end). */
  noReport?: boolean;
  /** Wall-clock budget of one decide call of a custom policy, in seconds. */
  policyTimeoutS?: number;
  /** scenarioHash(scenario), when the caller has it already (a sweep worker: once per cell, not per run). */
  scenarioHash?: string;
}

export interface ScenarioRun {
  policy: string;
  dir: string;
  data: RunData;
}

/**
 * File-system-safe folder name for a policy label: the label itself for every
 * label the scenario schema accepts (folderName); anything else mapped to
 * letters, digits, _ . - and at most 64 characters, never '.', '..' or empty.
 */
export function policyDirName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
  return /^\.*$/.test(safe) ? `_${safe}` : safe;
}

/** Each policy's folder: directly inside outDir, one per policy (two labels never share one). */
export function policyDirs(outDir: string, labels: readonly string[]): string[] {
  const byDir = new Map<string, string>();
  return labels.map((label) => {
    const name = policyDirName(label);
    const other = byDir.get(name);
    if (other !== undefined) {
      throw new ConmigError('SCENARIO_INVALID', `policies ${JSON.stringify(other)} and ${JSON.stringify(label)} would write to the same folder ${name}: give them different names`, {
        context: { policies: [other, label] },
      });
    }
    byDir.set(name, label);
    return path.join(outDir, name);
  });
}

/** A run that failed part-way, saying which policies' results were written and are kept. */
function withKeptRuns(e: unknown, runs: readonly ScenarioRun[]): unknown {
  if (!(e instanceof ConmigError) || runs.length === 0) return e;
  const kept = `results kept of ${runs.map((r) => `${r.policy} (${r.dir})`).join(', ')}`;
  return new ConmigError(e.code, `${e.message}; ${kept}`, { context: e.context, problems: [...e.problems], cause: e.cause });
}

export async function runScenario(scenario: Scenario, opts: RunScenarioOptions): Promise<{ runs: ScenarioRun[]; reportPath?: string }> {
  const seed = opts.seed ?? scenario.seed;
  const traces = createTraceStore(scenario.file ? path.dirname(scenario.file) : process.cwd());
  const runs: ScenarioRun[] = [];
  // Build every policy first: a bad parameter fails before any simulation time is spent.
  const policies = [];
  const dirs = policyDirs(opts.outDir, scenario.policies.map((p) => p.name));
  for (const ref of scenario.policies) policies.push(await loadPolicy(ref, scenario, { policyTimeoutS: opts.policyTimeoutS }));
  // One hash for all the policies' summaries (it is ~40 ms for city-grid).
  const hash = opts.scenarioHash ?? scenarioHash(scenario);
  for (let i = 0; i < policies.length; i++) {
    const policy = policies[i];
    const label = scenario.policies[i].name;
    const dir = dirs[i];
    await mkdir(dir, { recursive: true });
    const trace = scenario.output.requestTrace ? createRequestTraceWriter(dir) : undefined;
    const t0 = performance.now();
    let result: SimulateResult;
    try {
      result = simulate(scenario, policy, seed, {
        traces,
        scenarioHash: hash,
        requestSink: trace ? (r) => trace.write(r) : undefined,
        onProgress: opts.onProgress ? (f) => opts.onProgress!(i, label, f) : undefined,
      });
    } catch (e) {
      await trace?.close().catch(() => undefined);
      // This policy's folder holds no result (at most part of a request trace): remove it, keep the others.
      await rm(dir, { recursive: true, force: true });
      throw withKeptRuns(e, runs);
    }
    await trace?.close();
    const wallMs = performance.now() - t0;
    // Label the run with the scenario's policy name (a custom module may name itself differently).
    result.summary.policy.name = label;
    const { stats: _stats, ...data } = result;
    await writeRun(dir, data);
    runs.push({ policy: label, dir, data });
    // Which run wrote this folder (results/output-dir.ts): updated as each policy's folder is written.
    await writeRunIdentity(opts.outDir, {
      mode: 'sim',
      scenario: data.summary.scenario,
      seed,
      policies: runs.map((r) => ({ name: r.policy, dir: path.basename(r.dir) })),
    });
    opts.onRunWritten?.(label, dir, result, wallMs);
  }
  if (opts.noReport) return { runs };
  // Loaded only for a report: the chart libraries take about a second to load, which
  // every sweep worker and Slurm array task (they write no report) would pay.
  const { writeReport } = await import('../report/index.ts');
  const { htmlPath } = await writeReport(
    opts.outDir,
    runs.map((r) => ({ ...r.data, label: r.policy })),
    { title: `${scenario.name}: ${scenario.description}`, scenarioName: scenario.name, qosThresholdMs: scenario.qosThresholdMs },
  );
  return { runs, reportPath: htmlPath };
}
