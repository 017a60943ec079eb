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

// In a module of its own, so a sweep's planner (src/sweep/expand.ts) parses seeds without
// this module's report and statistics imports (vega, d3, stdlib: some 900 files).
export { parseSeedList } from './seed-list.ts';

export interface MultiSeedOptions {
  outDir: string;
  policy?: string;
  /** Parallel runs (default: the machine's cores). */
  concurrency?: number;
  onSeedDone?: (seed: number, outcome: SeedOutcome, done: number, total: number) => void;
  /** Passed to each seed's run as --policy-timeout. */
  policyTimeoutS?: number;
  /** Passed to each seed's run as --max-events. */
  maxEvents?: number;
}

/** How one seed's run ended: `error` is what the child said about it, whole (its `conmig: ...` lines). */
export type SeedOutcome = { status: 'done' } | { status: 'failed'; error: string };

export interface SeedFailure {
  seed: number;
  error: string;
}

/**
 * Of a child's stderr: the lines from its last `conmig: ` line on (the message
 * and its details, each whole; a stack trace's frames left out), else its last lines.
 */
export function errorLines(stderr: string): string {
  const lines = stderr.replace(/\s+$/, '').split('\n').filter((l) => !/^\s+at /.test(l));
  let at = -1;
  for (let i = lines.length - 1; i >= 0 && at < 0; i--) if (lines[i].startsWith('conmig: ')) at = i;
  return (at >= 0 ? lines.slice(at) : lines.slice(-10)).join('\n').trim();
}

/** The child's stderr kept at most (the end of it: that is where its error is). */
const STDERR_KEPT = 256 * 1024;

function runOneSeed(scenarioFile: string, seed: number, dir: string, opts: Pick<MultiSeedOptions, 'policy' | 'policyTimeoutS' | 'maxEvents'>): Promise<SeedOutcome> {
  // The child runs what this process runs: dist/ when compiled, the sources through tsx otherwise.
  const self = selfCommand();
  // Whether most requests went unanswered is judged here, over every seed (the child would exit 1).
  const args = [...self.args, 'run', scenarioFile, '--seed', String(seed), '--out', dir, '--no-progress', '--no-report', '--allow-unfinished', '--force'];
  if (opts.policy) args.push('--policy', opts.policy);
  if (opts.policyTimeoutS !== undefined) args.push('--policy-timeout', String(opts.policyTimeoutS));
  if (opts.maxEvents !== undefined) args.push('--max-events', String(opts.maxEvents));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...self.env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 2 * STDERR_KEPT) stderr = stderr.slice(-STDERR_KEPT);
    });
    child.on('error', (e) => resolve({ status: 'failed', error: `could not start the run for seed ${seed}: ${e.message}` }));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ status: 'done' });
      else {
        const said = errorLines(stderr);
        const how = signal ? `killed by ${signal}` : `exit ${code}`;
        resolve({ status: 'failed', error: said ? `${said} (${how})` : `the run for seed ${seed} ended with ${how} and said nothing` });
      }
    });
  });
}

/**
 * Every seed, `concurrency` at a time; a seed that fails does not stop the
 * others. The aggregate (seeds.json, seeds.csv, seeds.html) is over the seeds
 * that finished, and `failures` lists the others; throws only when no seed
 * finished (COMMAND_FAILED, with the first seed's error).
 */
export async function runSeeds(
  scenarioFile: string,
  seeds: readonly number[],
  opts: MultiSeedOptions,
): Promise<{ aggregate: SeedAggregate[]; runs: RunData[]; reportPath: string; failures: SeedFailure[] }> {
  await mkdir(opts.outDir, { recursive: true });
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? availableParallelism(), seeds.length));
  let next = 0;
  let done = 0;
  const outcomes = new Map<number, SeedOutcome>();
  const worker = async (): Promise<void> => {
    while (next < seeds.length) {
      const seed = seeds[next++];
      const outcome = await runOneSeed(scenarioFile, seed, path.join(opts.outDir, `seed-${seed}`), opts);
      outcomes.set(seed, outcome);
      opts.onSeedDone?.(seed, outcome, ++done, seeds.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const failures: SeedFailure[] = [];
  for (const seed of seeds) {
    const o = outcomes.get(seed);
    if (o?.status === 'failed') failures.push({ seed, error: o.error });
  }
  const finished = seeds.filter((seed) => outcomes.get(seed)?.status === 'done');
  if (finished.length === 0) {
    throw new ConmigError('COMMAND_FAILED', `every seed failed; seed ${failures[0].seed}: ${failures[0].error}`, { context: { seeds: failures.map((f) => f.seed) } });
  }

  // A failed seed's folder may hold the policies it finished: left out, so every policy has the same seeds.
  const runs: RunData[] = [];
  for (const seed of finished) {
    for (const dir of await findRuns(path.join(opts.outDir, `seed-${seed}`))) runs.push(await readRun(dir));
  }
  const aggregate = aggregateSeeds(runs);
  await writeFileAtomic(path.join(opts.outDir, 'seeds.json'), JSON.stringify(aggregate, null, 2) + '\n');
  await writeFileAtomic(path.join(opts.outDir, 'seeds.csv'), seedsCsv(aggregate));
  const reportPath = await writeSeedsReport(opts.outDir, aggregate, runs[0]?.summary.scenario.name ?? '');
  return { aggregate, runs, reportPath, failures };
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
