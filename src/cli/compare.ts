/**
 * `conmig compare` and `conmig calibrate`: read result folders, call the pure
 * analysis (src/analysis), write the outputs. Throws ConmigError; main.ts exits.
 * The analysis is imported when a command runs, so `conmig --help` stays fast.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import type { CalibrationResult } from '../analysis/calibrate.ts';
import { DEFAULT_TOLERANCE } from '../analysis/tolerance.ts';
import { ConmigError } from '../model/errors.ts';
import type { RunData } from '../model/results.ts';
import type { Scenario } from '../model/types.ts';
import { cliContext, processIo, type CliContext } from './io.ts';

interface CompareFlags {
  out: string;
  tolerancePercentile: string;
  toleranceDowntime: string;
  toleranceKs: string;
  allowMismatch?: boolean;
}

interface CalibrateFlags {
  scenario: string;
  out?: string;
  holdout: string;
  allowMismatch?: boolean;
}

/** A number option in (0, max]; USAGE naming the option otherwise. */
function fraction(option: string, text: string, max = 1): number {
  const v = Number(text);
  if (!Number.isFinite(v) || !(v > 0) || v > max) {
    throw new ConmigError('USAGE', `${option} must be a number in (0, ${max}], got "${text}"`, { context: { option, value: text } });
  }
  return v;
}

function nonNegativeInt(option: string, text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0) {
    throw new ConmigError('USAGE', `${option} must be a whole number >= 0, got "${text}"`, { context: { option, value: text } });
  }
  return v;
}

export async function runCompare(dirs: string[], flags: CompareFlags, ctx: CliContext = cliContext(processIo())): Promise<void> {
  if (dirs.length < 2) {
    throw new ConmigError('USAGE', `compare needs at least two result folders, got ${dirs.length}`, { context: { runs: dirs } });
  }
  const tolerance = {
    percentileRel: fraction('--tolerance-percentile', flags.tolerancePercentile),
    downtimeRel: fraction('--tolerance-downtime', flags.toleranceDowntime, 10),
    ksD: fraction('--tolerance-ks', flags.toleranceKs),
  };
  const [{ compareRuns }, { comparisonCharts, comparisonHtml, comparisonJson, comparisonTable }, { loadComparableRun, runLabels }, { renderSvg }, { writeFileAtomic }] =
    await Promise.all([
      import('../analysis/compare.ts'),
      import('../report/compare.ts'),
      import('../analysis/load.ts'),
      import('../report/render.ts'),
      import('../results/write.ts'),
    ]);
  const out = ctx.abs(flags.out);
  const { checkOutputDir } = await import('../results/output-dir.ts');
  await checkOutputDir(out, '-o');
  const absDirs = dirs.map((d) => ctx.abs(d));
  const labels = runLabels(absDirs);
  // One at a time: request traces can be large.
  const runs = [];
  for (let i = 0; i < dirs.length; i++) runs.push(await loadComparableRun(absDirs[i], labels[i]));
  for (const r of runs) if (r.sampleNote) ctx.err(`note: ${r.label}: ${r.sampleNote}`);

  const result = compareRuns(runs, { tolerance, allowMismatch: flags.allowMismatch });
  const chartDir = join(out, 'charts');
  await mkdir(chartDir, { recursive: true });
  const rendered = [];
  for (const c of comparisonCharts(runs, result)) {
    const svg = await renderSvg(c.spec);
    await writeFileAtomic(join(chartDir, `${c.id}.svg`), svg);
    rendered.push({ ...c, svg });
  }
  await writeFileAtomic(join(out, 'compare.html'), comparisonHtml(result, rendered));
  await writeFileAtomic(join(out, 'comparison.json'), comparisonJson(result));
  ctx.io.stdout.write(comparisonTable(result));
  ctx.out(`\nwrote ${join(out, 'compare.html')}, ${join(out, 'comparison.json')} and ${rendered.length} charts in ${chartDir}`);
}

/** Re-simulate a held-out run's policy on a (calibrated) scenario with the real simulator. */
async function simulatorFor(runs: readonly RunData[]): Promise<(s: Scenario) => Promise<RunData>> {
  const [{ simulate }, { createBuiltinPolicy }] = await Promise.all([import('../sim/simulator.ts'), import('../model/policies/index.ts')]);
  return async (s: Scenario) => {
    const live = runs.find((r) => r.summary.seed === s.seed) ?? runs[runs.length - 1];
    const policy = createBuiltinPolicy({ name: live.summary.policy.name, params: live.summary.policy.params });
    const { stats: _stats, ...data } = simulate({ ...s, mode: 'sim' }, policy, s.seed);
    return data;
  };
}

export async function runCalibrate(dirs: string[], flags: CalibrateFlags, ctx: CliContext = cliContext(processIo())): Promise<CalibrationResult> {
  if (dirs.length === 0) throw new ConmigError('USAGE', 'calibrate needs at least one live result folder', {});
  const holdout = nonNegativeInt('--holdout', flags.holdout);
  const [{ calibrate, withLivePhases }, { calibratedYaml, calibrationComment }, { loadRequestSamples, readLivePhases }, { hasRequestTrace, readRun }, { writeFileAtomic }, { loadScenario }] =
    await Promise.all([
      import('../analysis/calibrate.ts'),
      import('../analysis/calibrated-yaml.ts'),
      import('../analysis/load.ts'),
      import('../results/read.ts'),
      import('../results/write.ts'),
      import('../scenario-io/load.ts'),
    ]);
  const scenario = await loadScenario(flags.scenario, undefined, { cwd: ctx.io.cwd });
  const runs: Array<RunData & { dir: string }> = [];
  for (const d of dirs) {
    const run = await readRun(ctx.abs(d));
    // A live run's wall-clock phases show a disk-less dump/transfer overlap (calibrate-cost.ts withLivePhases).
    const phases = await readLivePhases(run.dir);
    runs.push(phases ? { ...run, migrations: run.migrations.map((m) => withLivePhases(m, phases.get(m.id))) } : run);
  }
  const foreign = runs.filter((r) => r.summary.scenario.name !== scenario.name);
  if (foreign.length > 0 && !flags.allowMismatch) {
    throw new ConmigError(
      'RESULT_MISMATCH',
      `${foreign[0].dir} is a run of scenario "${foreign[0].summary.scenario.name}", not of "${scenario.name}" (${flags.scenario}). Use --allow-mismatch to calibrate anyway.`,
      { context: { run: foreign[0].dir, scenario: flags.scenario } },
    );
  }
  const trainDirs = runs.slice(0, runs.length - holdout).map((r) => r.dir);
  const withTrace = [];
  for (const d of trainDirs) if (await hasRequestTrace(d)) withTrace.push(d);
  const migrationsOf = withTrace.map((d) => runs.find((r) => r.dir === d)?.migrations ?? []);
  const samples = withTrace.length > 0 ? await loadRequestSamples(withTrace, scenario, undefined, migrationsOf) : undefined;
  const result = await calibrate(runs, scenario, {
    ...(samples ? { serviceSamplesMs: samples.serviceMs } : {}),
    ...(samples && samples.access.length > 0 ? { accessObservations: samples.access } : {}),
    ...(samples?.lazyService ? { lazyService: samples.lazyService } : {}),
    holdout,
    dirs: runs.map((r) => r.dir),
    ...(holdout > 0 ? { simulate: await simulatorFor(runs) } : {}),
  });
  const original = await readFile(scenario.file || ctx.abs(flags.scenario), 'utf8');
  const text = calibratedYaml(original, scenario, result, runs.map((r) => r.dir));
  const out = ctx.abs(flags.out ?? `${basename(flags.scenario).replace(/\.ya?ml$/i, '')}.calibrated.yaml`);
  await writeFileAtomic(out, text);
  ctx.out(calibrationComment(result, runs.map((r) => r.dir)).replace(/^ /gm, '') + `\n\nwrote ${out}`);
  return result;
}

export function registerCompare(program: Command, ctx: CliContext): void {
  program
    .command('compare')
    .description('compare result folders of one scenario (sim and/or live; the first is the reference): percentiles with CIs, KS, migration costs, verdicts')
    .argument('<runs...>', 'result folders (at least two); the first is the reference')
    .option('-o, --out <dir>', 'output folder for compare.html, comparison.json and charts/', 'comparison')
    .option('--tolerance-percentile <rel>', 'largest relative error of p50/p90/p95/p99 that agrees', String(DEFAULT_TOLERANCE.percentileRel))
    .option('--tolerance-downtime <rel>', 'largest mean relative error of paired migration downtimes that agrees', String(DEFAULT_TOLERANCE.downtimeRel))
    .option('--tolerance-ks <d>', 'largest Kolmogorov-Smirnov D that agrees', String(DEFAULT_TOLERANCE.ksD))
    .option('--allow-mismatch', 'compare runs of different scenarios (differences are still listed)')
    .action(async (dirs: string[], flags: CompareFlags) => {
      await runCompare(dirs, flags, ctx);
    });

  program
    .command('calibrate')
    .description('fit the migration cost model (and service time) to live runs and write a calibrated scenario')
    .argument('<runs...>', 'live result folders')
    .requiredOption('-s, --scenario <file>', 'the scenario the runs were made with')
    .option('-o, --out <file>', 'calibrated scenario to write (default <scenario>.calibrated.yaml)')
    .option('--holdout <n>', 'hold out the last N runs: fit on the others, re-simulate and report the error on these', '0')
    .option('--allow-mismatch', 'calibrate from runs of a differently named scenario')
    .action(async (dirs: string[], flags: CalibrateFlags) => {
      await runCalibrate(dirs, flags, ctx);
    });
}
