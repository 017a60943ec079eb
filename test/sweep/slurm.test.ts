/**
 * `conmig sweep --slurm` against the real single-node Slurm that
 * scripts/setup-slurm.sh starts: a job array whose collected results are
 * the local sweep's, byte for byte. Needs root and a running Slurm; locally
 * it skips with the reason printed, under CI=true that is an error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunk, defaultChunkSize } from '../../src/sweep/slurm-plan.ts';
import { checkSlurmOptions, sbatchScript, shQuote } from '../../src/sweep/slurm.ts';
import type { SweepPlan } from '../../src/sweep/plan.ts';
import { conmig, expectNoStack, MERGED, sweepDir, tree } from './helpers.ts';

function sh(cmd: string): { code: number; out: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** Why a Slurm job cannot be submitted here, or '' when it can. */
function slurmUnavailableReason(): string {
  if (process.getuid?.() !== 0) return 'not root';
  const missing = ['sbatch', 'squeue', 'sinfo'].filter((t) => sh(`command -v ${t}`).code !== 0);
  if (missing.length > 0) return `missing ${missing.join(', ')} (run bash scripts/setup-slurm.sh)`;
  const state = sh('sinfo -h -o %T');
  if (state.code !== 0 || !/\b(idle|mixed|allocated|completing)\b/.test(state.out)) return `no Slurm node up (sinfo: ${state.out.trim() || 'no answer'}; run bash scripts/setup-slurm.sh)`;
  return '';
}

const reason = slurmUnavailableReason();
if (reason !== '') {
  if (process.env.CI) throw new Error(`slurm.test.ts: the Slurm job array test cannot run in CI: ${reason}`);
  console.log(`[slurm.test.ts] skipping the real Slurm job array: ${reason}`);
}

const SWEEP = `name: slurm
scenarios: [FIXTURES/small.yaml]
policies: [never, threshold]
seeds: 1..2
grid:
  qosThresholdMs: [50, 100]
  users[walker].mobility.speedMps: [[1, 2], [5, 15]]
`;

describe('the sbatch script', () => {
  const plan = { name: 'p', file: '/x/sweep.yaml' } as SweepPlan;
  it('one array task per chunk, with the partition, time limit and array limit asked for', async () => {
    const text = sbatchScript({ plan, outDir: "/o/it's", submissionFile: '/o/s.json', tasks: 5, runs: 17, chunk: 4, options: { partition: 'short', time: '2:00:00', arrayLimit: 3 }, argv: ['/usr/bin/node', '/o/w.mjs'] });
    expect(text.split('\n')).toEqual(
      expect.arrayContaining([
        '#!/bin/bash',
        '#SBATCH --job-name=conmig-p',
        '#SBATCH --array=0-4%3',
        '#SBATCH --partition=short',
        '#SBATCH --time=2:00:00',
        "#SBATCH --output=/o/it's/slurm/logs/%A_%a.out",
        `exec '/usr/bin/node' '/o/w.mjs' 'task' ${shQuote("/o/it's")} '/o/s.json' "$SLURM_ARRAY_TASK_ID"`,
      ]),
    );
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
    const bare = sbatchScript({ plan, outDir: '/o', submissionFile: '/o/s.json', tasks: 1, runs: 1, chunk: 1, options: {}, argv: ['node'] });
    expect(bare).toContain('#SBATCH --array=0-0\n');
    expect(bare).not.toMatch(/--partition|--time/);
  });

  it('chunks in plan order; by default at most 1000 tasks', async () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(defaultChunkSize(64)).toBe(1);
    expect(defaultChunkSize(2500)).toBe(3);
    expect(() => checkSlurmOptions({ time: 'soon' })).toThrow(/--time: expected a Slurm time limit/);
    expect(() => checkSlurmOptions({ partition: 'a b' })).toThrow(/--partition/);
    expect(() => checkSlurmOptions({ arrayLimit: 0 })).toThrow(/--array-limit: expected a positive integer/);
    expect(() => checkSlurmOptions({ time: '1-00:00:00', partition: 'debug', arrayLimit: 2, chunk: 3 })).not.toThrow();
  });
});

describe.skipIf(reason !== '')('a real Slurm job array', () => {
  it("collects to the local sweep's bytes; status reads the folder and squeue", async () => {
    const { dir, file } = sweepDir(SWEEP);
    const out = path.join(dir, 'slurm');
    const r = await conmig('sweep', file, '--out', out, '--slurm', '--chunk', '3', '--array-limit', '2', '--wait', '--svg');
    expectNoStack(r);
    expect(r.status, r.stderr).toBe(0);
    const jobId = r.stdout.split('\n')[0];
    expect(jobId).toMatch(/^\d+$/);
    expect(r.stderr).toContain(`submitted Slurm job array ${jobId}: 6 task(s) for 16 run(s)`);
    expect(r.stderr).toContain(`job ${jobId} finished: 16 of 16 run(s) done, 0 failed, 0 pending`);
    const script = readFileSync(path.join(out, 'slurm', 'submit-1.sbatch'), 'utf8');
    expect(script).toContain('#SBATCH --array=0-5%2');
    // Every task ran and said so in its log; each ran its three runs (the last one, one).
    const logs = readdirSync(path.join(out, 'slurm', 'logs'));
    expect(logs.sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `${jobId}_${i}.out`));
    for (const [i, log] of logs.entries()) expect(readFileSync(path.join(out, 'slurm', 'logs', log), 'utf8')).toMatch(new RegExp(`^chunk ${i}: ${i === 5 ? 1 : 3} run\\(s\\) in `, 'm'));

    const local = path.join(dir, 'local');
    expect((await conmig('sweep', file, '--jobs', '2', '--out', local, '--svg')).status).toBe(0);
    for (const f of MERGED) expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(local, f))), f).toBe(true);
    expect(tree(path.join(out, 'runs'))).toEqual(tree(path.join(local, 'runs')));
    expect(tree(path.join(out, 'charts'))).toEqual(tree(path.join(local, 'charts')));

    const st = await conmig('sweep', 'status', out);
    expect(st.status).toBe(0);
    expect(st.stdout).toContain('done 16, failed 0, not done 0');
    expect(st.stdout).toMatch(new RegExp(`slurm job ${jobId} \\(submit-1, 6 task\\(s\\), 16 run\\(s\\), submitted [^)]+\\): not in the queue \\(finished\\)`));

    // Everything done: a second --slurm submits nothing.
    const again = await conmig('sweep', file, '--out', out, '--slurm');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('nothing to submit: every run is done');
    expect(existsSync(path.join(out, 'slurm', 'submit-2.json'))).toBe(false);
  }, 600_000);
});
