/**
 * `conmig sweep SWEEP.yaml [--jobs N] [--out DIR]`: every cell x policy x
 * seed of a sweep on a local worker pool (every core by default), then the
 * merged results; resumable (finished runs are skipped), a failed run does
 * not stop the others, Ctrl-C keeps what finished.
 * `... --slurm [--partition P] [--time T] [--array-limit K] [--chunk N] [--wait]`:
 * the pending runs as a Slurm job array instead.
 * `conmig sweep status DIR`, `conmig sweep collect DIR`.
 */
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { ConmigError } from '../model/errors.ts';
import type { CollectResult, SlurmOptions, SweepPlan } from '../sweep/index.ts';
import type { Pool } from '../sweep/pool.ts';
import { cliContext, processIo, type CliContext } from './io.ts';

/** The sweep machinery, imported when a sweep command runs (so `conmig --help` loads commander only). */
async function sweepLib() {
  const [lib, entry, lock, results] = await Promise.all([
    import('../sweep/index.ts'),
    import('../sweep/entry.ts'),
    import('../sweep/lock.ts'),
    import('../results/index.ts'),
  ]);
  return { ...lib, ...entry, ...lock, writeFileAtomic: results.writeFileAtomic };
}

/**
 * What `conmig sweep` needs until its runs start: planning, the lock, run states. Merging
 * (collect.ts: the report's chart libraries and the statistics, some 900 modules) is
 * imported while the runs run, Slurm's side only with --slurm.
 */
async function planningLib() {
  const [load, lock, write, state, plan, pool] = await Promise.all([
    import('../sweep/load.ts'),
    import('../sweep/lock.ts'),
    import('../results/write.ts'),
    import('../sweep/state.ts'),
    import('../sweep/plan.ts'),
    import('../sweep/pool.ts'),
  ]);
  return { ...load, ...lock, ...write, ...state, ...plan, ...pool };
}

const collectLib = () => import('../sweep/collect.ts');
const slurmLib = () => import('../sweep/slurm.ts');

interface SweepFlags {
  jobs?: string;
  out?: string;
  progress?: boolean;
  slurm?: boolean;
  partition?: string;
  time?: string;
  arrayLimit?: string;
  chunk?: string;
  wait?: boolean;
  svg?: boolean;
}

function positiveInt(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new ConmigError('USAGE', `${flag}: expected a positive integer, got "${text}"`);
  return n;
}

function shape(plan: SweepPlan): string {
  const cells = plan.cells.length;
  const policies = new Set(plan.runs.map((r) => r.policy)).size;
  const seeds = new Set(plan.runs.map((r) => r.seed)).size;
  return `${plan.runs.length} run(s): ${cells} cell(s) x ${policies} polic${policies === 1 ? 'y' : 'ies'} x ${seeds} seed(s)`;
}

function printCollected(ctx: CliContext, c: CollectResult): void {
  const { rel } = ctx;
  ctx.io.stdout.write(
    `results: ${rel(c.files.results)} (a row per run)\ncells:   ${rel(c.files.cells)} (mean and 95% CI per cell, policy and metric)\nreport:  ${rel(c.files.report)}\n` +
      (c.counts.failed > 0 ? `failed:  ${rel(c.files.failed)}\n` : ''),
  );
}

/** Progress for a person at a terminal (never in CI logs); otherwise a line per run. */
async function progressReporter(ctx: CliContext, enabled: boolean, total: number) {
  const stderr = ctx.io.stderr;
  const cliProgress = enabled ? (await import('cli-progress')).default : undefined;
  const bar = cliProgress
    ? new cliProgress.SingleBar(
        { format: 'sweep [{bar}] {value}/{total} runs | {failed} failed | {eta_formatted} left', clearOnComplete: true, hideCursor: true, etaBuffer: 20 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let done = 0;
  let failed = 0;
  bar?.start(total, 0, { failed: 0 });
  return {
    runDone(run: { id: string; cell: number; policy: string; seed: number }, status: 'ok' | 'failed', message?: string): void {
      done++;
      if (status === 'failed') failed++;
      const what = `run ${run.id} (cell ${run.cell}, ${run.policy}, seed ${run.seed})`;
      if (bar) {
        // A failure is worth a line of its own: clear the bar's line, print, redraw.
        if (status === 'failed') stderr.write(`\r\x1b[K${what} FAILED: ${message}\n`);
        bar.update(done, { failed });
      } else stderr.write(status === 'ok' ? `${what} done (${done}/${total})\n` : `${what} FAILED (${done}/${total}): ${message}\n`);
    },
    stop(): void {
      bar?.stop();
    },
  };
}

/** An AbortSignal that Ctrl-C (or SIGTERM) fires while `fn` runs. */
async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function runSweep(ctx: CliContext, file: string, flags: SweepFlags): Promise<void> {
  const jobs = positiveInt('--jobs', flags.jobs) ?? availableParallelism();
  const slurm = { partition: flags.partition, time: flags.time, arrayLimit: positiveInt('--array-limit', flags.arrayLimit), chunk: positiveInt('--chunk', flags.chunk) };
  if (!flags.slurm && (Object.values(slurm).some((v) => v !== undefined) || flags.wait)) {
    throw new ConmigError('USAGE', '--partition, --time, --array-limit, --chunk and --wait go with --slurm');
  }
  // Local: the workers start first (from the cached bundle; their own modules load in
  // about 0.2 s), while this process loads the sweep machinery and plans the sweep.
  let pool: Pool | undefined;
  let stopped = false;
  let cleanup = async (): Promise<void> => {};
  const starting = flags.slurm
    ? undefined
    : Promise.all([import('../sweep/entry.ts'), import('../sweep/pool.ts')]).then(async ([entry, pools]) => {
        const b = await entry.workerBundle();
        cleanup = b.cleanup;
        if (stopped) throw new Error('the sweep stopped before its workers started');
        pool = pools.startPool(jobs, { bundle: b.bundle, execArgv: [] });
        return { pool, entry };
      });
  starting?.catch(() => undefined); // awaited where needed; never an unhandled rejection
  try {
    const { loadSweep, lockSweep, PLAN_FILE, refuseIfQueued, writeFileAtomic } = await planningLib();
    if (flags.slurm) (await slurmLib()).checkSlurmOptions(slurm);
    const plan = await loadSweep(ctx.abs(file));
    const outDir = ctx.abs(flags.out ?? path.join('results', plan.name));
    await mkdir(outDir, { recursive: true });
    const unlock = lockSweep(outDir);
    try {
      await refuseIfQueued(outDir);
      await writeFileAtomic(path.join(outDir, PLAN_FILE), JSON.stringify(plan, null, 2) + '\n');
      // The workers read the plan while this process checks which runs are done.
      const opened = starting?.then(({ pool: p, entry }) => (p.open(outDir, entry.workerExecArgv(plan)), p));
      opened?.catch(() => undefined);
      await sweepLocked(ctx, plan, outDir, slurm, flags, async () => {
        if (!opened) throw new Error('no local pool with --slurm');
        return opened;
      });
    } finally {
      unlock();
    }
  } finally {
    // Nothing to run, or the sweep stopped before running: the workers end here (or never start).
    stopped = true;
    pool?.close();
    await starting?.catch(() => undefined);
    await cleanup();
  }
}

async function sweepLocked(
  ctx: CliContext,
  plan: SweepPlan,
  outDir: string,
  slurm: SlurmOptions,
  flags: SweepFlags,
  localPool: () => Promise<Pool>,
): Promise<void> {
  const { longestFirst, runStates } = await planningLib();
  const { rel } = ctx;
  const stdout = ctx.io.stdout;
  const stderr = ctx.io.stderr;
  const states = await runStates(plan, outDir);
  const pending = plan.runs.filter((_, i) => states[i].state !== 'done');
  const already = plan.runs.length - pending.length;
  stderr.write(`sweep ${plan.name}: ${shape(plan)}; ${already} already done in ${rel(outDir)}, ${pending.length} to run\n`);

  if (flags.slurm) {
    const [{ submitSweep, waitForJobs }, { collectSweep }] = await Promise.all([slurmLib(), collectLib()]);
    if (pending.length === 0) {
      stdout.write('nothing to submit: every run is done\n');
      printCollected(ctx, await collectSweep(outDir, { svg: flags.svg }));
      return;
    }
    const sub = await submitSweep(plan, outDir, pending, slurm);
    stdout.write(`${sub.jobId}\n`);
    stderr.write(
      `submitted Slurm job array ${sub.jobId}: ${sub.tasks} task(s) for ${sub.runs} run(s) (script ${rel(sub.script)})\n` +
        `  progress: conmig sweep status ${rel(outDir)}    merge: conmig sweep collect ${rel(outDir)}\n`,
    );
    if (!flags.wait) return;
    await interruptible((signal) => waitForJobs([sub.jobId], 1000, signal));
    const c = await collectSweep(outDir, { svg: flags.svg });
    stderr.write(`job ${sub.jobId} finished: ${c.counts.done} of ${c.counts.total} run(s) done, ${c.counts.failed} failed, ${c.counts.pending} pending\n`);
    printCollected(ctx, c);
    if (c.counts.failed > 0 || c.counts.pending > 0) throw failedRuns(ctx, c, outDir);
    return;
  }

  const progress = await progressReporter(ctx, flags.progress !== false && Boolean(stderr.isTTY) && !ctx.io.env.CI, pending.length);
  let result;
  // Loaded while the workers run (on a core of its own with --jobs 1, beside them otherwise).
  const merging = collectLib();
  merging.catch(() => undefined); // awaited below; never an unhandled rejection
  try {
    const pool = await localPool();
    result = await interruptible((signal) => pool.run(longestFirst(plan, pending), { signal, onRunDone: progress.runDone }));
  } finally {
    progress.stop();
  }
  if (result.interrupted) {
    const done = already + result.ok;
    throw new ConmigError(
      'INTERRUPTED',
      `interrupted: ${done} of ${plan.runs.length} run(s) finished and kept in ${rel(outDir)}; run the same command again to resume (conmig sweep collect ${rel(outDir)} merges what is there)`,
    );
  }
  const c = await (await merging).collectSweep(outDir, { svg: flags.svg });
  stderr.write(`sweep ${plan.name}: ${result.ok} run(s) now, ${already} already done, ${c.counts.failed} failed\n`);
  printCollected(ctx, c);
  if (result.error) throw result.error;
  if (c.counts.failed > 0 || c.counts.pending > 0) throw failedRuns(ctx, c, outDir);
}

function failedRuns(ctx: CliContext, c: CollectResult, outDir: string): ConmigError {
  const { rel } = ctx;
  const first = c.failures[0];
  return new ConmigError(
    'COMMAND_FAILED',
    `${c.counts.failed} of ${c.counts.total} run(s) failed${c.counts.pending > 0 ? ` and ${c.counts.pending} did not run` : ''} (${rel(path.join(outDir, 'failed.csv'))}; run the same command again to retry them)` +
      (first ? `; first: run ${first.id} (cell ${first.cell}, ${first.policy}, seed ${first.seed}): ${first.message}` : ''),
  );
}

async function status(ctx: CliContext, dir: string): Promise<void> {
  const { countStates, readJobs, readPlan, runStates, sacctState, squeueState } = await sweepLib();
  const { rel } = ctx;
  const outDir = ctx.abs(dir);
  const plan = await readPlan(outDir);
  const states = await runStates(plan, outDir);
  const c = countStates(states);
  const lines = [`sweep ${plan.name} in ${rel(outDir)}: ${shape(plan)}`, `  done ${c.done}, failed ${c.failed}, not done ${c.pending}`];
  for (const job of await readJobs(outDir)) {
    const q = squeueState(job.jobId);
    const queue =
      q === undefined ? 'squeue not available' : 'error' in q ? `squeue: ${q.error}` : Object.keys(q.states).length === 0 ? 'not in the queue (finished)' : Object.entries(q.states).map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ');
    const acct = sacctState(job.jobId);
    lines.push(`  slurm job ${job.jobId} (${job.submission}, ${job.tasks} task(s), ${job.runs} run(s), submitted ${job.submittedAt}): ${queue}${acct ? `; sacct: ${Object.entries(acct).map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ')}` : ''}`);
  }
  const failures = states.flatMap((s) => (s.state === 'failed' ? [s.failure] : []));
  for (const f of failures.slice(0, 10)) lines.push(`  failed: run ${f.id} (cell ${f.cell}, ${f.policy}, seed ${f.seed}): ${f.message}`);
  if (failures.length > 10) lines.push(`  ... and ${failures.length - 10} more (conmig sweep collect writes them all to failed.csv)`);
  ctx.io.stdout.write(lines.join('\n') + '\n');
}

export function registerSweep(program: Command, ctx: CliContext = cliContext(processIo())): void {
  const sweep = program
    .command('sweep')
    .description('run a parameter sweep (cells x policies x seeds) on every core here, or as a Slurm job array')
    .argument('<sweep>', 'sweep YAML file')
    .option('--jobs <n>', 'runs at once (default: every core)')
    .option('--out <dir>', 'output folder (default: results/<sweep name>)')
    .option('--no-progress', 'no progress bar')
    .option('--svg', 'also write each chart of the report as charts/<id>.svg')
    .option('--slurm', 'submit the runs not done yet as a Slurm job array instead of running them here')
    .option('--partition <name>', 'with --slurm: the partition')
    .option('--time <limit>', 'with --slurm: time limit per array task (e.g. 30, 2:00:00)')
    .option('--array-limit <k>', 'with --slurm: at most k array tasks at once')
    .option('--chunk <n>', 'with --slurm: runs per array task (default: 1, or enough for at most 1000 tasks)')
    .option('--wait', 'with --slurm: wait for the job array to end, then collect')
    .action((file: string, flags: SweepFlags) => runSweep(ctx, file, flags));
  sweep
    .command('status')
    .description("a sweep's progress from its folder (and squeue/sacct for its Slurm jobs)")
    .argument('<dir>', "the sweep's output folder")
    .action((dir: string) => status(ctx, dir));
  sweep
    .command('collect')
    .description('merge the finished runs of a sweep folder into results.csv, cells.csv and report.html')
    .argument('<dir>', "the sweep's output folder")
    .option('--svg', 'also write each chart of the report as charts/<id>.svg')
    .action(async (dir: string, opts: { svg?: boolean }) => {
      const { collectSweep } = await sweepLib();
      const c = await collectSweep(ctx.abs(dir), { svg: opts.svg });
      ctx.io.stderr.write(`${c.counts.done} of ${c.counts.total} run(s) finished, ${c.counts.failed} failed, ${c.counts.pending} not done\n`);
      printCollected(ctx, c);
    });
}
