/**
 * A failed run (one that throws, one that kills its worker) is recorded with
 * its error and does not stop the others; a rerun retries only those.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conmig, expectNoStack, readCsv, stamps, sweepDir } from './helpers.ts';

// Several conmig processes per test; on a loaded 2-core machine a test takes a minute or two.
const SLOW = 300_000;

describe('conmig sweep (local)', () => {
  it('a failed run is recorded with its error and does not stop the others; a rerun retries only the failed', async () => {
    const { dir, file } = sweepDir('name: boom\nscenarios: [FIXTURES/boom.yaml]\nseeds: 1..2\n');
    const out = path.join(dir, 'out');
    const r = await conmig('sweep', file, '--jobs', '2', '--out', out);
    expectNoStack(r);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/conmig: 4 of 6 run\(s\) failed .*failed\.csv/);
    const done = readCsv(path.join(out, 'results.csv'));
    expect(done.map((x) => x.policy)).toEqual(['never', 'never']);
    const failed = readCsv(path.join(out, 'failed.csv'));
    expect(failed.map((x) => [x.policy, x.seed, x.code])).toEqual([
      ['throws', '1', 'POLICY_FAILED'],
      ['throws', '2', 'POLICY_FAILED'],
      ['crashes', '1', 'WORKER_DIED'],
      ['crashes', '2', 'WORKER_DIED'],
    ]);
    expect(failed[0].message).toContain('boom at 10000 ms');
    expect(failed[2].message).toContain('the worker running it exited (signal SIGKILL)');
    for (const f of failed) expect(JSON.parse(readFileSync(path.join(out, 'runs', f.run, 'error.json'), 'utf8'))).toMatchObject({ id: f.run, policy: f.policy });

    const before = stamps(path.join(out, 'runs', done[0].run));
    const again = await conmig('sweep', file, '--jobs', '2', '--out', out);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('2 already done');
    expect(again.stderr).toContain('4 to run');
    expect(stamps(path.join(out, 'runs', done[0].run))).toEqual(before);
    const st = await conmig('sweep', 'status', out);
    expect(st.status).toBe(0);
    expect(st.stdout).toContain('done 2, failed 4, not done 0');
    expect(st.stdout).toMatch(/failed: run \w+ \(cell 1, throws, seed 1\): policy "throws" .* failed at simulated time 10\.000 s: decide threw Error: boom at 10000 ms/);
  }, SLOW);
});
