/**
 * The local worker pool: N long-lived worker processes (worker-main.ts pool,
 * bundled: entry.ts),
 * each given one run at a time over IPC, so a run costs its simulation and
 * its result files, not a process start. Processes rather than threads: a
 * run that crashes or runs out of memory takes only its worker down; the run
 * is recorded as failed and a fresh worker takes the next one.
 *
 * The workers are started before the sweep is planned (startPool), so their
 * start (Node, the bundle's modules: about 0.2 s) overlaps the planning;
 * `open` points them at the planned folder (each reads its sweep.json) and
 * `run` hands out the runs, the longest first (plan.ts PlanCell.work), so
 * that no worker is left alone with a long run at the end.
 *
 * Interrupting (the signal) ends the workers at once: finished runs are in
 * their folders already, unfinished ones have no done.json and are redone
 * next time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { ConmigError } from '../model/errors.ts';
import type { PlanRun, SweepPlan } from './plan.ts';

export type ToWorker = { type: 'open'; outDir: string } | { type: 'run'; id: string };
export type FromWorker = { type: 'ready' } | { type: 'done'; id: string; status: 'ok' } | { type: 'done'; id: string; status: 'failed'; message: string };

/** The bundled worker (entry.ts workerBundle) and Node's arguments before it. */
export interface WorkerSpec {
  bundle: string;
  execArgv: string[];
}

export interface RunOptions {
  signal?: AbortSignal;
  onRunDone?: (run: PlanRun, status: 'ok' | 'failed', message?: string) => void;
}

export interface PoolOptions extends RunOptions {
  jobs: number;
  worker: WorkerSpec;
}

export interface PoolResult {
  ok: number;
  failed: number;
  interrupted: boolean;
  /** Workers could not be started or died between runs: the runs not started are still pending. */
  error?: ConmigError;
}

export interface Pool {
  /** Point the workers at a planned sweep folder (they read its sweep.json); with other Node arguments, fresh workers. */
  open(outDir: string, execArgv: readonly string[]): void;
  /** Run these runs (once per pool) in the folder given to `open`; the workers end when the queue is empty. */
  run(runs: readonly PlanRun[], opts?: RunOptions): Promise<PoolResult>;
  /** End the workers (when there is nothing to run, or the sweep stopped before running). */
  close(): void;
}

interface Slot {
  child: ChildProcess;
  ready: boolean;
  current?: PlanRun;
  stderr: string;
  /** Ended by the pool (close, or replaced by `open`): its exit is no failure. */
  retired: boolean;
}

/**
 * The runs in the order a pool hands them out: the cells with the most work first (a
 * stable sort: plan order within a cell, and where the plan has no estimate).
 */
export function longestFirst(plan: SweepPlan, runs: readonly PlanRun[]): PlanRun[] {
  const work = (r: PlanRun): number => plan.cells[r.cell - 1]?.work ?? 0;
  return [...runs].sort((a, b) => work(b) - work(a));
}

/**
 * Start up to `jobs` workers now (no more than the cores: the plan may need fewer), the rest
 * when `run` has more runs for them; they wait for `open` and `run`.
 */
export function startPool(jobs: number, worker: WorkerSpec): Pool {
  const node = process.execPath;
  let spec = { ...worker, execArgv: [...worker.execArgv] };
  const slots = new Set<Slot>();
  let outDir: string | undefined;
  let running: { queue: PlanRun[]; result: PoolResult; opts: RunOptions; resolve: (r: PoolResult) => void; reject: (e: unknown) => void } | undefined;
  let spawnError: ConmigError | undefined;
  let settled = false;

  const finish = (): void => {
    if (!running || settled || slots.size > 0) return;
    settled = true;
    const { result, opts } = running;
    opts.signal?.removeEventListener('abort', onAbort);
    if (spawnError !== undefined && result.ok + result.failed === 0) running.reject(spawnError);
    else running.resolve(spawnError ? { ...result, error: spawnError } : result);
  };
  const onAbort = (): void => {
    if (!running) return;
    running.result.interrupted = true;
    running.queue.length = 0;
    for (const s of slots) s.child.kill('SIGTERM');
    finish();
  };
  const retire = (s: Slot, how: 'disconnect' | 'kill'): void => {
    s.retired = true;
    if (how === 'kill') s.child.kill('SIGTERM');
    else if (s.child.connected) s.child.disconnect();
  };
  const next = (s: Slot): void => {
    if (!running || !s.ready || s.current || s.retired) return;
    s.current = running.queue.shift();
    if (s.current) s.child.send({ type: 'run', id: s.current.id } satisfies ToWorker);
    else retire(s, 'disconnect');
  };

  const start = (): void => {
    const child = fork(spec.bundle, ['pool'], {
      execPath: node,
      execArgv: spec.execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const s: Slot = { child, ready: false, stderr: '', retired: false };
    slots.add(s);
    child.stderr?.on('data', (d: Buffer) => {
      s.stderr = (s.stderr + d.toString()).slice(-4000);
    });
    child.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        s.ready = true;
        if (outDir !== undefined) child.send({ type: 'open', outDir } satisfies ToWorker);
        return next(s);
      }
      const current = s.current;
      if (!running || !current || m.id !== current.id) return;
      s.current = undefined;
      if (m.status === 'ok') running.result.ok++;
      else running.result.failed++;
      running.opts.onRunDone?.(current, m.status, m.status === 'failed' ? m.message : undefined);
      if (running.result.interrupted) return;
      next(s);
    });
    child.on('error', (e) => {
      if (!s.retired) spawnError ??= new ConmigError('COMMAND_FAILED', `could not start a sweep worker (${node} ${spec.bundle})`, { cause: e });
    });
    child.on('exit', (code, signal) => {
      slots.delete(s);
      const lost = s.current;
      s.current = undefined;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (running && lost && !running.result.interrupted) {
        // The worker died in the middle of a run: that run failed; the others go on.
        const message = `the worker running it exited (${how})${s.stderr.trim() ? `: ${s.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
        running.result.failed++;
        const { opts, queue } = running;
        // execute.ts brings the simulator: imported only here, so starting a pool stays light.
        void import('./execute.ts')
          .then(({ recordFailure }) => recordFailure(outDir!, { id: lost.id, cell: lost.cell, policy: lost.policy, seed: lost.seed, code: 'WORKER_DIED', message }))
          .finally(() => {
            opts.onRunDone?.(lost, 'failed', message);
            if (queue.length > 0 && spawnError === undefined) start();
            finish();
          });
        return;
      }
      if (!s.retired && spawnError === undefined && code !== 0 && !running?.result.interrupted && (!running || running.queue.length > 0)) {
        // Died before or between runs (e.g. could not read the plan): do not spin up worker after worker.
        spawnError = new ConmigError('COMMAND_FAILED', `a sweep worker exited (${how}) before running anything`, {
          context: { stderr: s.stderr.trim().split('\n').slice(-5).join('\n') },
        });
        for (const o of slots) retire(o, 'kill');
      }
      finish();
    });
  };
  const early = Math.min(jobs, availableParallelism());
  for (let i = 0; i < early; i++) start();
  const live = (): number => [...slots].filter((s) => !s.retired).length;

  return {
    open(dir, execArgv) {
      outDir = dir;
      if (execArgv.join('\u0000') !== spec.execArgv.join('\u0000')) {
        // Started without what this plan needs (tsx's loader for a TypeScript policy): fresh workers.
        spec = { ...spec, execArgv: [...execArgv] };
        for (const s of [...slots]) retire(s, 'kill');
        for (let i = 0; i < early; i++) start();
        return;
      }
      for (const s of slots) if (s.ready) s.child.send({ type: 'open', outDir: dir } satisfies ToWorker);
    },
    run(runs, opts = {}) {
      if (running) throw new Error('a pool runs once');
      if (outDir === undefined) throw new Error('open the pool on a sweep folder first');
      return new Promise<PoolResult>((resolve, reject) => {
        running = { queue: [...runs], result: { ok: 0, failed: 0, interrupted: false }, opts, resolve, reject };
        opts.signal?.addEventListener('abort', onAbort);
        if (running.queue.length === 0 || slots.size === 0) {
          for (const s of slots) retire(s, 'disconnect');
          if (slots.size === 0 && running.queue.length > 0 && spawnError === undefined) spawnError = new ConmigError('COMMAND_FAILED', 'the sweep workers ended before running anything');
          finish();
          return;
        }
        for (let i = live(); i < Math.min(jobs, runs.length); i++) start();
        for (const s of slots) next(s);
      });
    },
    close() {
      for (const s of slots) retire(s, 'disconnect');
    },
  };
}

/** `runs` of the plan in `outDir` on `opts.jobs` fresh workers (startPool, open, run). */
export async function runPool(outDir: string, runs: readonly PlanRun[], opts: PoolOptions): Promise<PoolResult> {
  if (runs.length === 0) return { ok: 0, failed: 0, interrupted: false };
  const pool = startPool(Math.min(opts.jobs, runs.length), opts.worker);
  pool.open(outDir, opts.worker.execArgv);
  return pool.run(runs, opts);
}
