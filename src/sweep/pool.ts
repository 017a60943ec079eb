/**
 * The local worker pool: N long-lived worker processes (worker-main.ts pool,
 * bundled: entry.ts),
 * each given one run at a time over IPC, so a run costs its simulation and
 * its result files, not a process start. Processes rather than threads: a
 * run that crashes or runs out of memory takes only its worker down; the run
 * is recorded as failed and a fresh worker takes the next one.
 *
 * Interrupting (the signal) ends the workers at once: finished runs are in
 * their folders already, unfinished ones have no done.json and are redone
 * next time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { ConmigError } from '../model/errors.ts';
import { recordFailure } from './execute.ts';
import type { PlanRun } from './plan.ts';

export type ToWorker = { type: 'run'; id: string };
export type FromWorker = { type: 'ready' } | { type: 'done'; id: string; status: 'ok' } | { type: 'done'; id: string; status: 'failed'; message: string };

export interface PoolOptions {
  jobs: number;
  /** The bundled worker (entry.ts bundleWorker) and Node's arguments before it. */
  worker: { bundle: string; execArgv: string[] };
  signal?: AbortSignal;
  onRunDone?: (run: PlanRun, status: 'ok' | 'failed', message?: string) => void;
}

export interface PoolResult {
  ok: number;
  failed: number;
  interrupted: boolean;
  /** Workers could not be started or died between runs: the runs not started are still pending. */
  error?: ConmigError;
}

export async function runPool(outDir: string, runs: readonly PlanRun[], opts: PoolOptions): Promise<PoolResult> {
  const queue = [...runs];
  const result: PoolResult = { ok: 0, failed: 0, interrupted: false };
  if (queue.length === 0) return result;
  const { bundle: main, execArgv } = opts.worker;
  const node = process.execPath;
  const workers = new Set<ChildProcess>();
  let spawnError: ConmigError | undefined;

  return new Promise<PoolResult>((resolve, reject) => {
    let finished = false;
    const finish = (): void => {
      if (finished || workers.size > 0) return;
      finished = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (spawnError !== undefined && result.ok + result.failed === 0) reject(spawnError);
      else resolve(spawnError ? { ...result, error: spawnError } : result);
    };
    const onAbort = (): void => {
      result.interrupted = true;
      queue.length = 0;
      for (const w of workers) w.kill('SIGTERM');
      finish();
    };
    opts.signal?.addEventListener('abort', onAbort);

    const start = (): void => {
      const child = fork(main, ['pool', outDir], {
        execPath: node,
        execArgv,
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'json',
      });
      workers.add(child);
      let current: PlanRun | undefined;
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      const next = (): void => {
        current = queue.shift();
        if (current) child.send({ type: 'run', id: current.id } satisfies ToWorker);
        else child.disconnect();
      };
      child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') return next();
        if (!current || m.id !== current.id) return;
        if (m.status === 'ok') result.ok++;
        else result.failed++;
        opts.onRunDone?.(current, m.status, m.status === 'failed' ? m.message : undefined);
        if (result.interrupted) return;
        next();
      });
      child.on('error', (e) => {
        spawnError ??= new ConmigError('COMMAND_FAILED', `could not start a sweep worker (${node} ${main})`, { cause: e });
      });
      child.on('exit', (code, signal) => {
        workers.delete(child);
        const lost = current;
        current = undefined;
        if (lost && !result.interrupted) {
          // The worker died in the middle of a run: that run failed; the others go on.
          const message = `the worker running it exited (${signal ? `signal ${signal}` : `code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
          result.failed++;
          void recordFailure(outDir, { id: lost.id, cell: lost.cell, policy: lost.policy, seed: lost.seed, code: 'WORKER_DIED', message }).finally(() => {
            opts.onRunDone?.(lost, 'failed', message);
            if (queue.length > 0 && spawnError === undefined) start();
            finish();
          });
          return;
        }
        if (spawnError === undefined && code !== 0 && !result.interrupted && queue.length > 0) {
          // Died between runs (e.g. could not read the plan): do not spin up worker after worker.
          spawnError = new ConmigError('COMMAND_FAILED', `a sweep worker exited (${signal ? `signal ${signal}` : `code ${code}`}) before running anything`, {
            context: { stderr: stderr.trim().split('\n').slice(-5).join('\n') },
          });
          for (const w of workers) w.kill('SIGTERM');
        }
        finish();
      });
    };
    for (let i = 0; i < Math.min(opts.jobs, queue.length); i++) start();
  });
}
