/**
 * One writer per sweep folder: two sweeps into one folder (two terminals, or
 * a local sweep while a Slurm array still runs there) would run the same
 * runs into the same folders at once. A local sweep holds <out>/sweep.lock
 * (created exclusively, holding its pid and host) while it runs; a lock whose
 * process is gone (kill -9, a reboot) is taken over. Slurm jobs of the folder
 * that are still in the queue count as writers too.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { ConmigError } from '../model/errors.ts';
import { readJobs, squeueState } from './slurm.ts';

const LOCK_FILE = 'sweep.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Slurm jobs of this folder that squeue still lists (none when squeue is not there). */
export async function queuedJobs(outDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const job of await readJobs(outDir)) {
    const s = squeueState(job.jobId);
    if (s && !('error' in s) && Object.keys(s.states).length > 0) out.push(job.jobId);
  }
  return out;
}

export async function refuseIfQueued(outDir: string): Promise<void> {
  const queued = await queuedJobs(outDir);
  if (queued.length > 0) {
    throw new ConmigError('USAGE', `Slurm job ${queued.join(', ')} of ${outDir} is still in the queue: wait for it (conmig sweep status ${outDir}) or scancel it first`, {
      context: { jobs: queued },
    });
  }
}

/** Take the folder's lock; the returned function releases it. */
export function lockSweep(outDir: string): () => void {
  const file = path.join(outDir, LOCK_FILE);
  const me = `${process.pid} ${hostname()}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, me, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === me) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConmigError('RESULT_INVALID', `cannot create ${file}`, { cause: e });
    }
    const [pidText, host] = readFileSync(file, 'utf8').trim().split(' ');
    const pid = Number(pidText);
    if (host === hostname() && Number.isInteger(pid) && alive(pid)) {
      throw new ConmigError('USAGE', `another sweep (pid ${pid}) is running in ${outDir}: let it finish or stop it first`, { context: { lock: file } });
    }
    if (host !== hostname()) {
      throw new ConmigError('USAGE', `${file} says a sweep on ${host} (pid ${pidText}) runs in ${outDir}; if it does not, remove that file`, { context: { lock: file } });
    }
    // Its process is gone: a stale lock.
    rmSync(file, { force: true });
  }
  throw new ConmigError('USAGE', `could not take ${file}`);
}
