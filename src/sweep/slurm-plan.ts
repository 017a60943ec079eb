/**
 * A Slurm submission of a sweep, as files in its output folder:
 *
 *   <out>/slurm/submit-<n>.json     the chunks: array task i runs chunks[i], in order
 *   <out>/slurm/submit-<n>.sbatch   the job array script (sbatch it again by hand if you like)
 *   <out>/slurm/logs/<job>_<i>.out  each task's output
 *   <out>/slurm/jobs.json           every submission: job id, tasks, runs
 */
export const SUBMISSION_SCHEMA = 'conmig-sweep-submission/1';

export interface SlurmSubmission {
  schema: typeof SUBMISSION_SCHEMA;
  /** Run ids per array task. */
  chunks: string[][];
}

export interface SlurmJobRecord {
  jobId: string;
  /** submit-<n>, relative to <out>/slurm. */
  submission: string;
  tasks: number;
  runs: number;
  submittedAt: string;
}

/** Runs per task so that at most `maxTasks` tasks are needed (Slurm's default MaxArraySize is 1001). */
export function defaultChunkSize(runs: number, maxTasks = 1000): number {
  return Math.max(1, Math.ceil(runs / maxTasks));
}

/** Consecutive chunks of `size` (the plan's order: a task's runs share cells and scenario parsing). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
