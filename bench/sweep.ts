/**
 * Sweep benchmarks (run by bench/run.ts; alone: tsx bench/sweep.ts [--quick] [--repeat N]).
 *
 *   parallel   `conmig sweep bench/sweep-short.yaml` (64 short runs) with --jobs 1 and with
 *              every core. The baseline, "the runs one after another", is --jobs 1: the same
 *              64 runs, the same command and process model (one warm worker process that
 *              runs them in turn), so the ratio is the pool's gain alone. Both start from a
 *              warm state (one sweep untimed first: the worker bundle cached, files read).
 *   overhead   per run, what a run costs beyond its simulation: in the worker's own code path
 *              (executeRun: scenario rebuilt and validated, policy, result files, run.json),
 *              plus a worker's start shared by its runs and the cell's hash shared by the
 *              worker's runs of the cell; against a city-grid-sized run
 *   slurm      the same sweep as a job array on the local Slurm (--chunk 4: 16 tasks), its
 *              overhead per array task, and whether it merges to the local sweep's bytes
 *
 * Wall times are medians of --repeat fresh sweeps (this machine is shared: see `uptime`).
 * Prints markdown.
 */
import { spawnSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { median } from 'simple-statistics';
import { executeRun, runDir } from '../src/sweep/execute.ts';
import { loadSweep } from '../src/sweep/load.ts';
import { workerBundle } from '../src/sweep/entry.ts';
import { writeFileAtomic } from '../src/results/write.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const repeatIdx = args.indexOf('--repeat');
const repeat = repeatIdx >= 0 ? Number(args[repeatIdx + 1]) : quick ? 1 : 3;
const SWEEP = 'bench/sweep-short.yaml';
const root = mkdtempSync(path.join(tmpdir(), 'conmig-bench-sweep-'));
const fmt = (x: number, d = 2): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');

/** A conmig command's wall time and CPU time (user + system, its workers included: they are waited for). */
function conmig(...a: string[]): { wallMs: number; cpuMs: number } {
  const timeFile = path.join(root, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '-o', timeFile, process.execPath, 'bin/conmig.js', ...a], { encoding: 'utf8', env: { ...process.env, CI: '1' }, maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`conmig ${a.join(' ')} failed:\n${r.stderr}`);
  const [wall, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wallMs: wall * 1000, cpuMs: (user + sys) * 1000 };
}

const same = (a: string, b: string): boolean => ['results.csv', 'cells.csv', 'failed.csv', 'report.html'].every((f) => readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f))));

const lines: string[] = [];
const loads: string[] = [`start: ${load()}`];
try {
  const plan = await loadSweep(SWEEP);
  const n = plan.runs.length;
  process.stderr.write(`sweep benchmarks: ${n} runs, ${repeat} repeat(s), ${availableParallelism()} cores, load ${load()}\n`);

  // ---------------------------------------------------------------- parallel
  // Untimed, first: the worker bundle into the cache, the files into the page cache.
  conmig('sweep', SWEEP, '--out', path.join(root, 'warm-up'));
  const seq: { wallMs: number; cpuMs: number }[] = [];
  const par: { wallMs: number; cpuMs: number }[] = [];
  let lastPar = '';
  for (let i = 0; i < repeat; i++) {
    const a = path.join(root, `seq-${i}`);
    seq.push(conmig('sweep', SWEEP, '--jobs', '1', '--out', a));
    process.stderr.write('.');
    lastPar = path.join(root, `par-${i}`);
    par.push(conmig('sweep', SWEEP, '--out', lastPar));
    process.stderr.write('.');
    if (!same(a, lastPar)) throw new Error(`--jobs 1 and --jobs ${availableParallelism()} merged to different bytes (${a}, ${lastPar})`);
  }
  loads.push(`after the local sweeps: ${load()}`);
  const tSeq = median(seq.map((x) => x.wallMs));
  const tPar = median(par.map((x) => x.wallMs));
  const cSeq = median(seq.map((x) => x.cpuMs));
  const cPar = median(par.map((x) => x.cpuMs));

  // ---------------------------------------------------------------- overhead
  // The worker's code path in this process: each run's wall time minus its simulation's.
  const inproc = path.join(root, 'inproc');
  mkdirSync(inproc, { recursive: true });
  await writeFileAtomic(path.join(inproc, 'sweep.json'), JSON.stringify(plan));
  const over: number[] = [];
  let simTotal = 0;
  for (const r of plan.runs) {
    const t0 = performance.now();
    const o = await executeRun(plan, r, inproc);
    if (o.status !== 'ok') throw new Error(o.failure.message);
    over.push(performance.now() - t0 - o.simMs);
    simTotal += o.simMs;
  }
  // A worker's start (fork of the bundled worker to ready), once per worker, shared by its runs.
  // The bundle: built into an empty cache, then found there (what a sweep does first).
  const cacheHome = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = path.join(root, 'cache');
  const tb = performance.now();
  await workerBundle();
  const bundleMs = performance.now() - tb;
  const th = performance.now();
  const { bundle } = await workerBundle();
  const cachedMs = performance.now() - th;
  if (cacheHome === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = cacheHome;
  const starts: number[] = [];
  const startCpu: number[] = [];
  // The task mode with an empty chunk: start, read the plan, end (what a pool worker does before its first run).
  const emptySubmission = path.join(root, 'empty.json');
  await writeFileAtomic(emptySubmission, JSON.stringify({ schema: 'conmig-sweep-submission/1', chunks: [[]] }));
  for (let i = 0; i < Math.max(3, repeat); i++) {
    const t0 = performance.now();
    const child = fork(bundle, ['pool'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    starts.push(performance.now() - t0);
    child.disconnect();
    const timeFile = path.join(root, 'time.txt');
    spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, process.execPath, bundle, 'task', inproc, emptySubmission, '0']);
    const [u, sy] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    startCpu.push((u + sy) * 1000);
  }
  const workerStart = median(starts);
  const workerStartCpu = median(startCpu);
  // A city-grid-sized run (1,000 users, 600 s, threshold) through the same path, 5 times:
  // its time outside the simulation (rebuild, policy, result files, run.json) against its whole.
  const cgSweep = path.join(root, 'city-grid.yaml');
  await writeFileAtomic(cgSweep, `name: cg\nscenarios: [${path.resolve('scenarios/city-grid.yaml')}]\npolicies: [threshold]\n`);
  const cg = await loadSweep(cgSweep);
  const cgDir = path.join(root, 'cg');
  mkdirSync(cgDir, { recursive: true });
  await writeFileAtomic(path.join(cgDir, 'sweep.json'), JSON.stringify(cg));
  // A worker hashes a cell's scenario on its first run of the cell only (execute.ts): each
  // run on a fresh copy of the plan is such a first run; on the same plan, a later one.
  const cgWall: number[] = [];
  const cgOver: number[] = [];
  const cgFirst: number[] = [];
  for (let i = 0; i < 5; i++) {
    for (const first of [true, false]) {
      // A sweep's run writes into a fresh folder: the previous repeat's is removed untimed.
      rmSync(runDir(cgDir, cg.runs[0].id), { recursive: true, force: true });
      const t0 = performance.now();
      const o = await executeRun(first ? structuredClone(cg) : cg, cg.runs[0], cgDir);
      if (o.status !== 'ok') throw new Error(o.failure.message);
      if (first) cgFirst.push(performance.now() - t0 - o.simMs);
      else {
        cgWall.push(performance.now() - t0);
        cgOver.push(performance.now() - t0 - o.simMs);
      }
    }
  }
  const share = (ms: number): number => ms / (n / availableParallelism());
  // Runs of one cell per worker in the bench sweep (its cells' runs split over the workers).
  const perCellWorker = n / plan.cells.length / availableParallelism();
  const cellShare = (median(cgFirst) - median(cgOver)) / perCellWorker;
  const perRunCg = median(cgOver) + cellShare + share(workerStartCpu);
  // The sweep's fixed cost: the same command again on the finished folder (start, plan, check every run, merge).
  const fixed: { wallMs: number; cpuMs: number }[] = [];
  for (let i = 0; i < repeat; i++) fixed.push(conmig('sweep', SWEEP, '--out', lastPar));
  loads.push(`after the overhead runs: ${load()}`);

  lines.push(`### sweep: ${n} short runs (${SWEEP}), ${availableParallelism()} cores\n`);
  lines.push('| case | wall (median) | vs one after another | CPU, workers included (median) | runs |', '|---|---|---|---|---|');
  lines.push(`| \`conmig sweep --jobs 1\` (the runs one after another: baseline) | ${fmt(tSeq / 1000, 1)} s | 1.00x | ${fmt(cSeq / 1000, 1)} s | ${seq.length} |`);
  lines.push(`| \`conmig sweep\` (--jobs ${availableParallelism()}) | ${fmt(tPar / 1000, 1)} s | **${fmt(tPar / tSeq)}x** (goal <= 0.55x) | ${fmt(cPar / 1000, 1)} s | ${par.length} |`);
  lines.push('');
  lines.push('| overhead per run (beyond its simulation) | ms |', '|---|---|');
  lines.push(`| short run: rebuild + validate the cell, policy, result files, run.json (wall, median of ${n}) | ${fmt(median(over), 1)} |`);
  lines.push(`| city-grid-sized run (1,000 users, 600 s, threshold): the same, a worker's later run of the cell (wall, median of ${cgOver.length}) | ${fmt(median(cgOver), 1)} |`);
  lines.push(`| the same, a worker's first run of the cell (hashes the cell's scenario too; median of ${cgFirst.length}) | ${fmt(median(cgFirst), 1)}, ${fmt(cellShare, 1)} per run with ${fmt(perCellWorker, 0)} runs of a cell per worker (as in this sweep) |`);
  lines.push(`| worker start, once per worker (bundled worker; CPU of start and plan read, median of ${startCpu.length}; wall fork to ready: ${fmt(workerStart, 0)}, while the sweep is planned) | ${fmt(workerStartCpu, 0)}, ${fmt(share(workerStartCpu), 1)} per run |`);
  lines.push(`| that bundle, once per sweep: found in the cache (wall; built by esbuild when an input changed: ${fmt(bundleMs, 0)}) | ${fmt(cachedMs, 0)} |`);
  lines.push(`| **per city-grid-sized run, the cell's and the worker start's shares included** | **${fmt(perRunCg, 0)} of ${fmt(median(cgWall), 0)} = ${fmt((100 * perRunCg) / median(cgWall), 1)}%** (goal < 10%) |`);
  // Mean, not median: it counts each cell's first run (in this one process, 1 of n / cells; in the sweep, 1 of perCellWorker per worker).
  const meanOver = over.reduce((a, b) => a + b, 0) / n;
  lines.push(`| per short run, the same (mean of the ${n}: each cell's first run included) | ${fmt(meanOver + share(workerStartCpu), 0)} of ${fmt(simTotal / n + meanOver, 0)} |`);
  const tFixed = median(fixed.map((f) => f.wallMs));
  lines.push(`| the sweep's fixed cost: \`conmig sweep\` again on the finished folder (CLI start, planning, checking every run, merging; median of ${fixed.length}) | ${fmt(tFixed, 0)} wall, ${fmt(median(fixed.map((f) => f.cpuMs)), 0)} CPU |`);
  lines.push(`| the runs alone, every core against one after another: (${fmt(tPar / 1000, 1)} - ${fmt(tFixed / 1000, 1)}) / (${fmt(tSeq / 1000, 1)} - ${fmt(tFixed / 1000, 1)}) (derived: wall less the fixed cost) | ${fmt((tPar - tFixed) / (tSeq - tFixed))}x |`);

  // ---------------------------------------------------------------- slurm
  const hasSlurm = spawnSync('sh', ['-c', 'command -v sbatch && sinfo -h -o %T | grep -Eq "idle|mixed"']).status === 0;
  lines.push('');
  if (!hasSlurm) {
    lines.push('slurm: skipped (no running Slurm here: bash scripts/setup-slurm.sh)');
  } else {
    const sl: number[] = [];
    const taskStart: number[] = [];
    const perTaskSlurm: number[] = [];
    let identical = true;
    let tasks = 0;
    for (let i = 0; i < repeat; i++) {
      const d = path.join(root, `slurm-${i}`);
      sl.push(conmig('sweep', SWEEP, '--out', d, '--slurm', '--chunk', '4', '--wait').wallMs);
      process.stderr.write('.');
      identical &&= same(d, lastPar);
      const logs = readdirSync(path.join(d, 'slurm', 'logs'));
      tasks = logs.length;
      // From submission to the last task's end, every core busy with runs or with Slurm's and
      // the tasks' own overhead: (cores x span - time in runs) / tasks is that overhead per task.
      const submitted = Date.parse((JSON.parse(readFileSync(path.join(d, 'slurm', 'jobs.json'), 'utf8')) as { submittedAt: string }[])[0].submittedAt);
      let lastEnd = 0;
      let inRuns = 0;
      for (const l of logs) {
        const m = /chunk \d+: \d+ run\(s\) in ([\d.]+) s \(process up ([\d.]+) s, from (\S+) to (\S+)\)/.exec(readFileSync(path.join(d, 'slurm', 'logs', l), 'utf8'));
        if (!m) throw new Error(`no chunk line in ${l}`);
        taskStart.push((Number(m[2]) - Number(m[1])) * 1000);
        inRuns += Number(m[1]) * 1000;
        lastEnd = Math.max(lastEnd, Date.parse(m[4]));
      }
      perTaskSlurm.push((availableParallelism() * (lastEnd - submitted) - inRuns) / tasks);
    }
    loads.push(`after the Slurm sweeps: ${load()}`);
    const tSl = median(sl);
    const whole = ((tSl - tPar) * availableParallelism()) / tasks;
    lines.push(`| Slurm job array (local single-node Slurm) | value |`, '|---|---|');
    lines.push(`| \`conmig sweep --slurm --chunk 4 --wait\`: ${tasks} array tasks, wall (median of ${sl.length}) | ${fmt(tSl / 1000, 1)} s (local pool: ${fmt(tPar / 1000, 1)} s) |`);
    lines.push(`| **overhead per array task**: (${availableParallelism()} cores x (last task's end - submission) - time in runs) / ${tasks} tasks: queueing, Slurm's start of each task, the task's process start (median of ${perTaskSlurm.length}) | **${fmt(median(perTaskSlurm) / 1000)} s** (goal < 1 s) |`);
    lines.push(`| of which the task's own start (process up until its first run, median of ${taskStart.length} tasks) | ${fmt(median(taskStart) / 1000)} s |`);
    lines.push(`| the whole command against the local pool: (Slurm wall - local wall) x ${availableParallelism()} / ${tasks} (adds bundling the worker, sbatch, --wait's 1 s polling) | ${fmt(whole / 1000)} s |`);
    lines.push(`| merged results byte-identical to the local sweep | ${identical ? 'yes' : '**no**'} |`);
  }
  lines.push('', `Machine load (uptime's 1/5/15-minute averages): ${loads.join('; ')}.`);
  process.stderr.write('\n');
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  rmSync(root, { recursive: true, force: true });
}
