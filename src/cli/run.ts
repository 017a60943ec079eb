/**
 * `conmig run SCENARIO [--seed N | --seeds 1..30] [--out DIR] [--policy NAME] [--live]`:
 * simulate a scenario (every policy it lists, or one) or run it live, write
 * the results and the report, print a summary table.
 */
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { ConmigError } from '../model/errors.ts';
import type { CliContext, CliWriter } from './io.ts';
import { formatSummaryTable } from '../report/index.ts';
import { runLive } from '../live/run-live.ts';
import { formatSeedsTable, parseSeedList, runSeeds } from '../run/multi-seed.ts';
import { runScenario, type ScenarioRun } from '../run/run-scenario.ts';
import { loadScenario } from '../scenario-io/load.ts';

interface RunFlags {
  seed?: string;
  seeds?: string;
  out?: string;
  policy?: string;
  live?: boolean;
  inventory?: string;
  progress?: boolean;
  report?: boolean;
}

export function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ConmigError('USAGE', `--seed: expected a non-negative integer, got "${text}"`);
  }
  return n;
}

/** A progress bar per policy, for a person at a terminal only (never in CI logs). */
class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private current = -1;

  /** `stream` is a terminal when `enabled` (process.stderr from bin/conmig.js). */
  constructor(enabled: boolean, stream: CliWriter) {
    this.bar = enabled
      ? new cliProgress.SingleBar(
          {
            format: '{policy} [{bar}] {percentage}% | {eta_formatted} left',
            clearOnComplete: true,
            hideCursor: true,
            stream: stream as NodeJS.WritableStream,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  }

  static wanted(flag: boolean | undefined, ctx: CliContext): boolean {
    return flag !== false && Boolean(ctx.io.stderr.isTTY) && !ctx.io.env.CI;
  }

  readonly update = (index: number, name: string, fraction: number): void => {
    if (!this.bar) return;
    if (index !== this.current) {
      if (this.current >= 0) this.bar.stop();
      this.bar.start(100, 0, { policy: name.padEnd(14) });
      this.current = index;
    }
    this.bar.update(Math.round(fraction * 100));
  };

  stop(): void {
    this.bar?.stop();
    this.current = -1;
  }
}

function printRuns(ctx: CliContext, name: string, seed: number, runs: ScenarioRun[], reportPath: string | undefined): void {
  ctx.out(`\n${name} (seed ${seed})`);
  ctx.out(formatSummaryTable(runs.map((r) => ({ ...r.data, label: r.policy })), { color: Boolean(ctx.io.stdout.isTTY) }));
  if (reportPath) ctx.out(`report: ${ctx.rel(reportPath)}`);
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
    .action(async (file: string, flags: RunFlags) => {
      if (flags.seed !== undefined && flags.seeds !== undefined) throw new ConmigError('USAGE', 'give --seed or --seeds, not both');
      const seed = flags.seed === undefined ? undefined : parseSeed(flags.seed);
      const scenario = await loadScenario(file, { seed, policy: flags.policy }, { cwd: ctx.io.cwd });
      const live = Boolean(flags.live) || scenario.mode === 'live';
      const outDir = ctx.abs(flags.out ?? path.join('results', live ? `${scenario.name}-live` : scenario.name));

      if (flags.seeds !== undefined) {
        if (live) throw new ConmigError('USAGE', '--seeds is for simulation: a live run has one seed');
        const seeds = parseSeedList(flags.seeds);
        const { aggregate, reportPath } = await runSeeds(ctx.abs(file), seeds, {
          outDir,
          policy: flags.policy,
          onSeedDone: (s, done, total) => ctx.err(`seed ${s} done (${done}/${total})`),
        });
        ctx.out(`\n${scenario.name}: ${seeds.length} seeds\n${formatSeedsTable(aggregate)}\nreport: ${rel(reportPath)}`);
        return;
      }

      const progress = new Progress(Progress.wanted(flags.progress, ctx), ctx.io.stderr);
      try {
        const { runs, reportPath } = live
          ? await runLive(scenario, {
              outDir,
              inventory: flags.inventory === undefined ? undefined : ctx.abs(flags.inventory),
              seed,
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
              onProgress: progress.update,
              onRunWritten: (name, dir, result, wallMs) => {
                progress.stop();
                const rate = result.stats.requests / (wallMs / 1000);
                ctx.err(
                  `${name}: ${result.stats.requests.toLocaleString('en-US')} requests, ${result.stats.events.toLocaleString('en-US')} events in ${(wallMs / 1000).toFixed(1)} s (${Math.round(rate).toLocaleString('en-US')} requests/s) -> ${rel(dir)}`,
                );
              },
            });
        printRuns(ctx, scenario.name, seed ?? scenario.seed, runs, reportPath);
      } finally {
        progress.stop();
      }
    });
}
