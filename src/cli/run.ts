/**
 * `conmig run SCENARIO [--seed N | --seeds 1..30] [--out DIR] [--policy NAME] [--live]`:
 * simulate a scenario (every policy it lists, or one) or run it live, write
 * the results and the report, print a summary table.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { ConmigError } from '../model/errors.ts';
import type { RunSummary } from '../model/results.ts';
import type { ScenarioRun } from '../run/run-scenario.ts';
import { DEFAULT_POLICY_TIMEOUT_S } from '../run/guard-policy.ts';
import type { CliContext } from './io.ts';

interface RunFlags {
  seed?: string;
  seeds?: string;
  out?: string;
  policy?: string;
  live?: boolean;
  inventory?: string;
  progress?: boolean;
  report?: boolean;
  allowUnfinished?: boolean;
  policyTimeout?: string;
  maxEvents?: string;
  force?: boolean;
  /** false with --no-agent */
  agent?: boolean;
}

/** --policy-timeout: seconds in (0, 3600]. */
export function parsePolicyTimeout(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || !(n > 0) || n > 3600) {
    throw new ConmigError('USAGE', `--policy-timeout: expected seconds in (0, 3600], got "${text}"`);
  }
  return n;
}

/** --max-events: a positive whole number of events (1e10 and 10000000000 both read). */
export function parseMaxEvents(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ConmigError('USAGE', `--max-events: expected a positive whole number of events (e.g. 5e9), got "${text}"`);
  }
  return n;
}

export function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ConmigError('USAGE', `--seed: expected a non-negative integer, got "${text}"`);
  }
  return n;
}

async function printRuns(ctx: CliContext, name: string, seed: number, runs: ScenarioRun[], reportPath: string | undefined): Promise<void> {
  const { formatSummaryTable } = await import('../report/table.ts');
  ctx.out(`\n${name} (seed ${seed})`);
  ctx.out(formatSummaryTable(runs.map((r) => ({ ...r.data, label: r.policy })), { color: Boolean(ctx.io.stdout.isTTY) }));
  if (reportPath) ctx.out(`report: ${ctx.rel(reportPath)}`);
}

/**
 * After the table: a warning per run whose figures leave out many requests or
 * migrations; and, when most requests of some run got no answer, the
 * RUN_UNFINISHED error to throw (exit 1; the results stay written) unless --allow-unfinished.
 */
async function checkHealth(ctx: CliContext, runs: readonly { label: string; summary: RunSummary }[], outDir: string, allow: boolean): Promise<ConmigError | undefined> {
  const { healthWarnings, runHealth } = await import('../analysis/health.ts');
  for (const line of healthWarnings(runs)) ctx.err(`warning: ${line}`);
  const bad = runs.filter((r) => runHealth(r.summary).mostUnanswered);
  if (bad.length === 0 || allow) return undefined;
  const which = bad.map((r) => `${r.label} (${r.summary.requests.served.toLocaleString('en-US')} of ${r.summary.requests.generated.toLocaleString('en-US')} served)`).join(', ');
  return new ConmigError(
    'RUN_UNFINISHED',
    `most requests got no answer in ${which}: these are not results to quote (the latencies describe only the served requests). The run folders are in ${ctx.rel(outDir)}; pass --allow-unfinished to accept such a run`,
  );
}

export function registerRun(program: Command, ctx: CliContext): void {
  const { rel } = ctx;
  program
    .command('run')
    .description('simulate a scenario (or run it live) and write its results and report')
    .argument('<scenario>', 'scenario YAML file')
    .option('--seed <n>', "random seed (default: the scenario's)")
    .option('--seeds <list>', 'many seeds in parallel, e.g. 1..30 or 1,2,7: means with confidence intervals')
    .option('--out <dir>', 'output folder (default: results/<scenario name>)')
    .option('--policy <name>', "run only this policy (one of the scenario's, or a built-in)")
    .option('--live', 'run on real nodes (as mode: live in the scenario)')
    .option('--inventory <file>', "live mode: the nodes (default: the scenario's live.inventory)")
    .option('--no-progress', 'no progress bar')
    .option('--no-report', 'write the run folders only (no HTML/SVG report)')
    .option('--allow-unfinished', 'exit 0 even when most requests of a run got no answer (failed or unfinished)')
    .option('--force', "remove an earlier run's results from the output folder even where this run would not rewrite them")
    .option('--policy-timeout <s>', `wall-clock seconds one decide call of a custom policy may take before the run stops it (default ${DEFAULT_POLICY_TIMEOUT_S})`)
    .option('--no-agent', 'live mode: no node agent, one SSH command per step (as CONMIG_AGENT=off; docs/migrate.md)')
    .option('--max-events <n>', 'refuse a run whose estimated events exceed this (default 2e9, about half an hour on a loaded 2-core machine)')
    .action(async (file: string, flags: RunFlags) => {
      if (flags.seed !== undefined && flags.seeds !== undefined) throw new ConmigError('USAGE', 'give --seed or --seeds, not both');
      const seed = flags.seed === undefined ? undefined : parseSeed(flags.seed);
      const policyTimeoutS = flags.policyTimeout === undefined ? undefined : parsePolicyTimeout(flags.policyTimeout);
      const maxEvents = flags.maxEvents === undefined ? undefined : parseMaxEvents(flags.maxEvents);
      // Loaded when the command runs, so `conmig --help` stays fast.
      const { loadScenario } = await import('../scenario-io/load.ts');
      const scenario = await loadScenario(file, { seed, policy: flags.policy }, { cwd: ctx.io.cwd, maxEvents });
      const live = Boolean(flags.live) || scenario.mode === 'live';
      if (flags.agent === false && !live) throw new ConmigError('USAGE', '--no-agent is for live runs (--live or mode: live): a simulation has no nodes to run agents on');
      const outDir = ctx.abs(flags.out ?? path.join('results', live ? `${scenario.name}-live` : scenario.name));
      const [{ claimOutputDir }, { policyDirName }] = await Promise.all([import('../results/output-dir.ts'), import('../run/run-scenario.ts')]);
      // The folders this run writes: one per policy, or one per seed (multi-seed.ts loads the chart libraries: only then).
      const owns =
        flags.seeds !== undefined
          ? (await import('../run/multi-seed.ts')).parseSeedList(flags.seeds).map((s) => `seed-${s}`)
          : scenario.policies.map((p) => policyDirName(p.name));
      await claimOutputDir(outDir, { option: flags.out === undefined ? 'output folder' : '--out', owns, force: flags.force });

      if (flags.seeds !== undefined) {
        if (live) throw new ConmigError('USAGE', '--seeds is for simulation: a live run has one seed');
        const [{ parseSeedList, runSeeds }, { formatSeedsTable }] = await Promise.all([import('../run/multi-seed.ts'), import('../report/seeds.ts')]);
        const seeds = parseSeedList(flags.seeds);
        const { aggregate, runs, reportPath, failures } = await runSeeds(ctx.abs(file), seeds, {
          outDir,
          policy: flags.policy,
          policyTimeoutS,
          maxEvents,
          onSeedDone: (s, outcome, done, total) =>
            ctx.err(outcome.status === 'done' ? `seed ${s} done (${done}/${total})` : `seed ${s} FAILED (${done}/${total}): ${outcome.error}`),
        });
        const finished = seeds.length - failures.length;
        ctx.out(`\n${scenario.name}: ${finished === seeds.length ? `${seeds.length} seeds` : `${finished} of ${seeds.length} seeds (failed: ${failures.map((f) => f.seed).join(', ')})`}\n${formatSeedsTable(aggregate)}\nreport: ${rel(reportPath)}`);
        const unhealthy = await checkHealth(
          ctx,
          runs.map((r) => ({ label: `seed ${r.summary.seed} ${r.summary.policy.name}`, summary: r.summary })),
          outDir,
          Boolean(flags.allowUnfinished),
        );
        if (failures.length > 0) {
          throw new ConmigError(
            'COMMAND_FAILED',
            `${failures.length} of ${seeds.length} seeds failed (${failures.map((f) => f.seed).join(', ')}); seeds.json covers the ${finished} that finished. Seed ${failures[0].seed}: ${failures[0].error}`,
            { context: { failed: failures.map((f) => f.seed) } },
          );
        }
        if (unhealthy) throw unhealthy;
        return;
      }

      const [{ Progress }, { runScenario }] = await Promise.all([import('./progress.ts'), import('../run/run-scenario.ts')]);
      const progress = new Progress(Progress.wanted(flags.progress, ctx), ctx.io.stderr);
      try {
        const { runs, reportPath } = live
          ? await (await import('../live/run-live.ts')).runLive(scenario, {
              outDir,
              inventory: flags.inventory === undefined ? undefined : ctx.abs(flags.inventory),
              seed,
              agent: flags.agent === false ? 'off' : undefined,
              onProgress: progress.update,
              // Pre-flight, migrations and a Ctrl-C being handled are worth seeing as they happen.
              log: (line) => {
                progress.stop();
                ctx.err(line);
              },
            })
          : await runScenario(scenario, {
              outDir,
              seed,
              noReport: flags.report === false,
              policyTimeoutS,
              onProgress: progress.update,
              onRunWritten: (name, dir, result, wallMs) => {
                progress.stop();
                const rate = result.stats.requests / (wallMs / 1000);
                ctx.err(
                  `${name}: ${result.stats.requests.toLocaleString('en-US')} requests, ${result.stats.events.toLocaleString('en-US')} events in ${(wallMs / 1000).toFixed(1)} s (${Math.round(rate).toLocaleString('en-US')} requests/s) -> ${rel(dir)}`,
                );
              },
            });
        await printRuns(ctx, scenario.name, seed ?? scenario.seed, runs, reportPath);
        progress.stop();
        const unhealthy = await checkHealth(ctx, runs.map((r) => ({ label: r.policy, summary: r.data.summary })), outDir, Boolean(flags.allowUnfinished));
        if (unhealthy) throw unhealthy;
      } finally {
        progress.stop();
      }
    });
}
