/**
 * Slurm at the edge: write a job array script for a sweep's pending runs
 * (one array task per chunk of runs; each task is worker-main.ts `task`),
 * submit it with sbatch, and ask squeue/sacct how the jobs are doing.
 *
 * The tasks write into the same output folder as a local sweep and by the
 * same code (executeRun), so `conmig sweep collect` gives the bytes a local
 * sweep gives. Each submission bundles the worker (entry.ts) into the output
 * folder, so compute nodes need Node and that folder, which on a cluster must
 * be on a filesystem they share.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConmigError } from '../model/errors.ts';
import { writeFileAtomic } from '../results/write.ts';
import { bundleWorker, workerExecArgv } from './entry.ts';
import type { PlanRun, SweepPlan } from './plan.ts';
import { chunk, defaultChunkSize, SUBMISSION_SCHEMA, type SlurmJobRecord, type SlurmSubmission } from './slurm-plan.ts';

export const SLURM_DIR = 'slurm';
const JOBS_FILE = 'jobs.json';

export interface SlurmOptions {
  partition?: string;
  /** sbatch --time, e.g. 30, 2:00:00, 1-00:00:00. */
  time?: string;
  /** At most this many array tasks at once (--array=...%K). */
  arrayLimit?: number;
  /** Runs per array task (default: enough that there are at most 1000 tasks). */
  chunk?: number;
}

const TIME = /^(\d+-)?\d+(:\d{1,2}){0,2}$|^(UNLIMITED|INFINITE)$/;
const PARTITION = /^[A-Za-z0-9_.,-]+$/;

export function checkSlurmOptions(o: SlurmOptions): void {
  if (o.partition !== undefined && !PARTITION.test(o.partition)) throw new ConmigError('USAGE', `--partition: expected a partition name, got ${JSON.stringify(o.partition)}`);
  if (o.time !== undefined && !TIME.test(o.time)) throw new ConmigError('USAGE', `--time: expected a Slurm time limit like 30, 45:00, 2:00:00 or 1-00:00:00, got ${JSON.stringify(o.time)}`);
  for (const [flag, v] of [['--array-limit', o.arrayLimit], ['--chunk', o.chunk]] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new ConmigError('USAGE', `${flag}: expected a positive integer, got ${v}`);
  }
}

/** A word for bash, single-quoted. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ScriptParams {
  plan: SweepPlan;
  outDir: string;
  submissionFile: string;
  tasks: number;
  runs: number;
  chunk: number;
  options: SlurmOptions;
  /** The command a task runs, before its arguments. */
  argv: readonly string[];
}

export function sbatchScript(p: ScriptParams): string {
  const { options: o } = p;
  const argv = p.argv;
  const array = `0-${p.tasks - 1}${o.arrayLimit !== undefined ? `%${o.arrayLimit}` : ''}`;
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${`conmig-${p.plan.name}`.slice(0, 64)}`,
    `#SBATCH --array=${array}`,
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=1',
    `#SBATCH --output=${path.join(p.outDir, SLURM_DIR, 'logs', '%A_%a.out')}`,
    ...(o.partition !== undefined ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.time !== undefined ? [`#SBATCH --time=${o.time}`] : []),
    `# conmig sweep ${p.plan.file}: ${p.runs} run(s) in ${p.tasks} array task(s) of up to ${p.chunk}.`,
    '# Each task runs its chunk one run after another into the output folder, which every',
    '# compute node must see at this path (a shared filesystem); the worker is bundled there.',
    'set -euo pipefail',
    `exec ${[...argv, 'task', p.outDir, p.submissionFile].map(shQuote).join(' ')} "$SLURM_ARRAY_TASK_ID"`,
    '',
  ];
  return lines.join('\n');
}

function slurmCommand(cmd: string, args: string[]): { ok: true; stdout: string } | { ok: false; missing: boolean; message: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return { ok: false, missing: (r.error as NodeJS.ErrnoException).code === 'ENOENT', message: r.error.message };
  if (r.status !== 0) return { ok: false, missing: false, message: (r.stderr || r.stdout).trim() };
  return { ok: true, stdout: r.stdout };
}

export async function readJobs(outDir: string): Promise<SlurmJobRecord[]> {
  try {
    return JSON.parse(await readFile(path.join(outDir, SLURM_DIR, JOBS_FILE), 'utf8')) as SlurmJobRecord[];
  } catch {
    return [];
  }
}

export interface Submitted {
  jobId: string;
  tasks: number;
  runs: number;
  script: string;
}

/** Write the submission and its script for `pending` runs, and sbatch it. */
export async function submitSweep(plan: SweepPlan, outDir: string, pending: readonly PlanRun[], options: SlurmOptions): Promise<Submitted> {
  checkSlurmOptions(options);
  const dir = path.join(outDir, SLURM_DIR);
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  const n = (await readdir(dir)).filter((f) => /^submit-\d+\.json$/.test(f)).length + 1;
  const size = options.chunk ?? defaultChunkSize(pending.length);
  const chunks = chunk(pending.map((r) => r.id), size);
  const submission: SlurmSubmission = { schema: SUBMISSION_SCHEMA, chunks };
  const submissionFile = path.join(dir, `submit-${n}.json`);
  const script = path.join(dir, `submit-${n}.sbatch`);
  const bundle = path.join(dir, `worker-${n}.mjs`);
  await bundleWorker(bundle);
  await writeFileAtomic(submissionFile, JSON.stringify(submission) + '\n');
  await writeFileAtomic(script, sbatchScript({ plan, outDir, submissionFile, tasks: chunks.length, runs: pending.length, chunk: size, options, argv: [process.execPath, ...workerExecArgv(plan), bundle] }));

  const r = slurmCommand('sbatch', ['--parsable', script]);
  if (!r.ok) {
    if (r.missing) throw new ConmigError('SETUP_MISSING', 'sbatch not found: --slurm needs a Slurm client (on this machine: bash scripts/setup-slurm.sh)', { context: { script } });
    throw new ConmigError('COMMAND_FAILED', `sbatch refused the job array: ${r.message}`, { context: { script } });
  }
  const jobId = r.stdout.trim().split(';')[0];
  if (!/^\d+$/.test(jobId)) throw new ConmigError('COMMAND_FAILED', `sbatch printed ${JSON.stringify(r.stdout.trim())}, not a job id`, { context: { script } });
  const jobs = await readJobs(outDir);
  jobs.push({ jobId, submission: `submit-${n}`, tasks: chunks.length, runs: pending.length, submittedAt: new Date().toISOString() });
  await writeFileAtomic(path.join(dir, JOBS_FILE), JSON.stringify(jobs, null, 2) + '\n');
  return { jobId, tasks: chunks.length, runs: pending.length, script };
}

export interface QueueState {
  /** Task states squeue reports (PENDING, RUNNING, ...), counted; an array's pending tasks count as one line each range. */
  states: Record<string, number>;
}

/** squeue's view of a job (empty when it has left the queue); undefined when squeue is not there. */
export function squeueState(jobId: string): QueueState | { error: string } | undefined {
  const r = slurmCommand('squeue', ['-h', '-r', '-j', jobId, '-o', '%i|%T']);
  if (!r.ok) {
    if (r.missing) return undefined;
    // A job that finished long enough ago is forgotten: it is simply not in the queue.
    if (/invalid job id/i.test(r.message)) return { states: {} };
    return { error: r.message };
  }
  const states: Record<string, number> = {};
  for (const line of r.stdout.split('\n').filter((l) => l.trim() !== '')) {
    const state = line.split('|')[1]?.trim() ?? '?';
    states[state] = (states[state] ?? 0) + 1;
  }
  return { states };
}

/** sacct's final states of a job's tasks; undefined when sacct is missing or accounting is off (as on the local Slurm). */
export function sacctState(jobId: string): Record<string, number> | undefined {
  const r = slurmCommand('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'JobID,State']);
  if (!r.ok) return undefined;
  const states: Record<string, number> = {};
  for (const line of r.stdout.split('\n').filter((l) => l.trim() !== '')) {
    const state = (line.split('|')[1] ?? '?').split(' ')[0];
    states[state] = (states[state] ?? 0) + 1;
  }
  return Object.keys(states).length > 0 ? states : undefined;
}

/** Wait until none of the jobs is in squeue any more (polls every `intervalMs`). */
export async function waitForJobs(jobIds: readonly string[], intervalMs = 1000, signal?: AbortSignal): Promise<void> {
  for (;;) {
    if (signal?.aborted) throw new ConmigError('INTERRUPTED', 'stopped waiting for the Slurm job (it keeps running; conmig sweep status shows it)');
    const busy = jobIds.some((id) => {
      const s = squeueState(id);
      if (s === undefined) throw new ConmigError('SETUP_MISSING', 'squeue not found: cannot wait for the Slurm job');
      if ('error' in s) throw new ConmigError('COMMAND_FAILED', `squeue: ${s.error}`);
      return Object.keys(s.states).length > 0;
    });
    if (!busy) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
