/**
 * The process that runs a sweep's runs; an entry point like src/cli/main.ts
 * (so it may exit the process), started in two ways:
 *
 *   worker-main.ts pool                        a local pool worker (pool.ts): takes the sweep
 *                                              folder, then run ids, over IPC, answers with
 *                                              each outcome
 *   worker-main.ts task OUT SUBMISSION INDEX   a Slurm array task (slurm.ts): runs chunk
 *                                              INDEX of the submission, one run after another
 *
 * Either way each run goes through executeRun, which records a failure in the
 * run's folder instead of throwing, so one bad run never stops the rest.
 */
import { readFile } from 'node:fs/promises';
import { executeRun, readPlan } from './execute.ts';
import type { PlanRun, SweepPlan } from './plan.ts';
import type { SlurmSubmission } from './slurm-plan.ts';
import { runState } from './state.ts';
import type { FromWorker, ToWorker } from './pool.ts';

const [mode, ...rest] = process.argv.slice(2);

async function poolWorker(): Promise<void> {
  // Ctrl-C at a terminal reaches the whole process group: the coordinator decides
  // what stops (it ends workers with SIGTERM), so a worker does not die on its own.
  process.on('SIGINT', () => {});
  // The coordinator is gone (killed, even with -9), or has nothing for this worker: stop,
  // leaving an unfinished run unmarked.
  process.on('disconnect', () => process.exit(0));
  if (!process.connected) process.exit(0);
  const parent = process.ppid;
  // Started before the sweep is planned: the folder comes with the first message.
  let opened: Promise<{ plan: SweepPlan; byId: Map<string, PlanRun>; outDir: string }> | undefined;
  const send = (m: FromWorker): void => {
    process.send?.(m);
  };
  process.on('message', (m: ToWorker) => {
    if (m.type === 'open') {
      opened = readPlan(m.outDir).then((plan) => ({ plan, byId: new Map(plan.runs.map((r) => [r.id, r])), outDir: m.outDir }));
      // Could not read the plan: the coordinator sees the exit and the reason on stderr.
      opened.catch((e: unknown) => {
        process.stderr.write(`conmig sweep worker: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      });
      return;
    }
    void (async () => {
      if (!opened) {
        send({ type: 'done', id: m.id, status: 'failed', message: `run ${m.id} came before the sweep folder` });
        return;
      }
      const { plan, byId, outDir } = await opened;
      const run = byId.get(m.id);
      if (!run) {
        send({ type: 'done', id: m.id, status: 'failed', message: `run ${m.id} is not in ${outDir}/sweep.json` });
        return;
      }
      const outcome = await executeRun(plan, run, outDir, {
        // A simulation does not return to the event loop, so 'disconnect' waits: check here too.
        onProgress: () => {
          if (process.ppid !== parent) process.exit(1);
        },
      });
      send(outcome.status === 'ok' ? { type: 'done', id: run.id, status: 'ok' } : { type: 'done', id: run.id, status: 'failed', message: outcome.failure.message });
    })();
  });
  send({ type: 'ready' });
}

async function slurmTask(): Promise<void> {
  const [outDir, submissionFile, indexText] = rest;
  const index = Number(indexText);
  const submission = JSON.parse(await readFile(submissionFile, 'utf8')) as SlurmSubmission;
  const ids = submission.chunks[index];
  if (!Number.isInteger(index) || !ids) throw new Error(`array index ${indexText}: the submission has chunks 0..${submission.chunks.length - 1}`);
  const plan = await readPlan(outDir);
  const byId = new Map(plan.runs.map((r) => [r.id, r]));
  const t0 = performance.now();
  for (const id of ids) {
    const run: PlanRun | undefined = byId.get(id);
    if (!run) {
      process.stdout.write(`run ${id}: not in the plan (the sweep was planned again since submission?)\n`);
      continue;
    }
    // Another submission (or a local sweep) may have finished it meanwhile.
    if ((await runState(plan, run, outDir)).state === 'done') {
      process.stdout.write(`run ${id}: already done\n`);
      continue;
    }
    const t = performance.now();
    const outcome = await executeRun(plan, run, outDir);
    const what = `run ${id} (cell ${run.cell}, ${run.policy}, seed ${run.seed})`;
    process.stdout.write(outcome.status === 'ok' ? `${what}: done in ${((performance.now() - t) / 1000).toFixed(2)} s\n` : `${what}: FAILED: ${outcome.failure.message}\n`);
  }
  // Wall-clock times for the benchmark (bench/sweep.ts): when the process started and ended.
  const up = process.uptime();
  const end = Date.now();
  process.stdout.write(
    `chunk ${index}: ${ids.length} run(s) in ${((performance.now() - t0) / 1000).toFixed(3)} s (process up ${up.toFixed(3)} s, from ${new Date(end - up * 1000).toISOString()} to ${new Date(end).toISOString()})\n`,
  );
}

try {
  if (mode === 'pool') await poolWorker();
  else if (mode === 'task') await slurmTask();
  else throw new Error(`usage: worker-main.ts pool | task OUT SUBMISSION INDEX (got ${JSON.stringify(mode)})`);
} catch (e) {
  process.stderr.write(`conmig sweep worker: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
