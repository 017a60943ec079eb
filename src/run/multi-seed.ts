/**
 * `conmig run SCENARIO --seeds 1..30`: the same scenario over many seeds, in
 * parallel child processes (one per core), then per policy the mean of each
 * metric over the seeds with a Student-t confidence interval, so that a
 * difference between policies is stated with its uncertainty.
 *
 *   <outDir>/seed-<n>/<policy>/...    every run, as a single-seed run writes it
 *   <outDir>/seeds.json, seeds.csv    the aggregate
 *   <outDir>/seeds.html, charts/      means with 95% CIs per policy (src/report/seeds.ts)
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { aggregateSeeds, SEED_METRICS, type SeedAggregate } from '../analysis/seeds.ts';
import { ConmigError } from '../model/errors.ts';
import type { RunData } from '../model/results.ts';
import { renderSvg } from '../report/render.ts';
import { seedsChart, seedsHtml } from '../report/seeds.ts';
import { findRuns, readRun, writeFileAtomic } from '../results/index.ts';
import { selfCommand } from './self.ts';

/** "1..30", "1,2,7", "3..5,9" or "5" -> seeds, in order, without duplicates. */
export function parseSeedList(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const range = /^(\d+)\.\.(\d+)$/.exec(part);
    if (range) {
      const lo = Number(range[1]);
      const hi = Number(range[2]);
      if (hi < lo || hi - lo > 10_000) throw new ConmigError('USAGE', `--seeds: bad range "${part}" (expected lo..hi with lo <= hi)`);
      for (let s = lo; s <= hi; s++) seeds.push(s);
    } else if (/^\d+$/.test(part)) {
      seeds.push(Number(part));
    } else {
      throw new ConmigError('USAGE', `--seeds: expected a list like 1..30 or 1,2,7, got "${text}"`);
    }
  }
  const unique = [...new Set(seeds)];
  if (unique.length === 0) throw new ConmigError('USAGE', '--seeds: no seeds given');
  return unique;
}

export interface MultiSeedOptions {
  outDir: string;
  policy?: string;
  /** Parallel runs (default: the machine's cores). */
  concurrency?: number;
  onSeedDone?: (seed: number, done: number, total: number) => void;
  /** Passed to each seed's run as --policy-timeout. */
  policyTimeoutS?: number;
}

function runOneSeed(scenarioFile: string, seed: number, dir: string, policy: string | undefined, policyTimeoutS?: number): Promise<void> {
  // The child runs what this process runs: dist/ when compiled, the sources through tsx otherwise.
  const self = selfCommand();
  const args = [...self.args, 'run', scenarioFile, '--seed', String(seed), '--out', dir, '--no-progress', '--no-report', '--force'];
  if (policy) args.push('--policy', policy);
  if (policyTimeoutS !== undefined) args.push('--policy-timeout', String(policyTimeoutS));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...self.env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('error', (e) => reject(new ConmigError('COMMAND_FAILED', `could not start the run for seed ${seed}`, { cause: e })));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        reject(
          new ConmigError('COMMAND_FAILED', `the run for seed ${seed} failed (exit ${code})`, {
            context: { seed, stderr: stderr.trim().split('\n').slice(-5).join('\n') },
          }),
        );
      }
    });
  });
}

export async function runSeeds(
  scenarioFile: string,
  seeds: readonly number[],
  opts: MultiSeedOptions,
): Promise<{ aggregate: SeedAggregate[]; runs: RunData[]; reportPath: string }> {
  await mkdir(opts.outDir, { recursive: true });
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? availableParallelism(), seeds.length));
  let next = 0;
  let done = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < seeds.length) {
      const seed = seeds[next++];
      try {
        await runOneSeed(scenarioFile, seed, path.join(opts.outDir, `seed-${seed}`), opts.policy, opts.policyTimeoutS);
      } catch (e) {
        failures.push(e);
      }
      opts.onSeedDone?.(seed, ++done, seeds.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failures.length > 0) throw failures[0];

  const runs: RunData[] = [];
  for (const seed of seeds) {
    for (const dir of await findRuns(path.join(opts.outDir, `seed-${seed}`))) runs.push(await readRun(dir));
  }
  const aggregate = aggregateSeeds(runs);
  await writeFileAtomic(path.join(opts.outDir, 'seeds.json'), JSON.stringify(aggregate, null, 2) + '\n');
  await writeFileAtomic(path.join(opts.outDir, 'seeds.csv'), seedsCsv(aggregate));
  const reportPath = await writeSeedsReport(opts.outDir, aggregate, runs[0]?.summary.scenario.name ?? '');
  return { aggregate, runs, reportPath };
}

function seedsCsv(agg: readonly SeedAggregate[]): string {
  const lines = ['policy,metric,n,mean,sd,ciLow,ciHigh'];
  for (const a of agg) {
    for (const m of SEED_METRICS) {
      const e = a.metrics[m];
      lines.push([a.policy, m, e.n, e.mean, e.sd, e.ci.lo, e.ci.hi].map((v) => (typeof v === 'number' && !Number.isFinite(v) ? '' : String(v))).join(','));
    }
  }
  return lines.join('\n') + '\n';
}

async function writeSeedsReport(outDir: string, agg: readonly SeedAggregate[], scenarioName: string): Promise<string> {
  const chart = seedsChart(agg, scenarioName);
  const svg = await renderSvg(chart.spec);
  await mkdir(path.join(outDir, 'charts'), { recursive: true });
  await writeFileAtomic(path.join(outDir, 'charts', `${chart.id}.svg`), svg);
  const html = seedsHtml(agg, scenarioName, svg);
  const reportPath = path.join(outDir, 'seeds.html');
  await writeFileAtomic(reportPath, html);
  return reportPath;
}
