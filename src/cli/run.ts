/**
 * `conmig run SCENARIO [--seed N] [--out DIR] [--policy NAME]`: simulate a
 * scenario (every policy it lists, or one), write the results and the report,
 * print a summary table.
 */
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { ConmigError } from '../model/errors.ts';
import { formatSummaryTable } from '../report/index.ts';
import { runScenario } from '../run/run-scenario.ts';
import { loadScenario } from '../scenario-io/load.ts';

interface RunFlags {
  seed?: string;
  out?: string;
  policy?: string;
  live?: boolean;
  progress?: boolean;
}

export function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ConmigError('USAGE', `--seed: expected a non-negative integer, got "${text}"`);
  }
  return n;
}

/** Progress bars only for a person at a terminal, never in CI logs. */
function wantProgress(flag: boolean | undefined): boolean {
  return flag !== false && Boolean(process.stderr.isTTY) && !process.env.CI;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('simulate a scenario and write its results and report')
    .argument('<scenario>', 'scenario YAML file')
    .option('--seed <n>', 'random seed (default: the scenario\'s)')
    .option('--out <dir>', 'output folder (default: results/<scenario name>)')
    .option('--policy <name>', 'run only this policy (one of the scenario\'s, or a built-in)')
    .option('--live', 'run on real nodes (mode: live)')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, flags: RunFlags) => {
      const seed = flags.seed === undefined ? undefined : parseSeed(flags.seed);
      const scenario = await loadScenario(file, { seed, policy: flags.policy });
      if (flags.live || scenario.mode === 'live') {
        throw new ConmigError('USAGE', 'live mode is not available in this version: run without --live (and with mode: sim) to simulate', {
          context: { scenario: scenario.file },
        });
      }
      const outDir = path.resolve(flags.out ?? path.join('results', scenario.name));
      const bar = wantProgress(flags.progress)
        ? new cliProgress.SingleBar(
            { format: '{policy} [{bar}] {percentage}% | {eta_formatted} left', clearOnComplete: true, hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      let current = -1;
      try {
        const { runs, reportPath } = await runScenario(scenario, {
          outDir,
          onProgress: bar
            ? (i, name, f) => {
                if (i !== current) {
                  if (current >= 0) bar.stop();
                  bar.start(100, 0, { policy: name.padEnd(14) });
                  current = i;
                }
                bar.update(Math.round(f * 100));
              }
            : undefined,
          onRunWritten: (name, dir, result, wallMs) => {
            if (bar) bar.stop();
            current = -1;
            const rate = result.stats.requests / (wallMs / 1000);
            process.stderr.write(
              `${name}: ${result.stats.requests.toLocaleString('en-US')} requests, ${result.stats.events.toLocaleString('en-US')} events in ${(wallMs / 1000).toFixed(1)} s (${Math.round(rate).toLocaleString('en-US')} requests/s) -> ${path.relative(process.cwd(), dir) || dir}\n`,
            );
          },
        });
        process.stdout.write(`\n${scenario.name} (seed ${seed ?? scenario.seed})\n`);
        process.stdout.write(formatSummaryTable(runs.map((r) => ({ ...r.data, label: r.policy })), { color: Boolean(process.stdout.isTTY) }) + '\n');
        if (reportPath) process.stdout.write(`report: ${path.relative(process.cwd(), reportPath) || reportPath}\n`);
      } finally {
        bar?.stop();
      }
    });
}
