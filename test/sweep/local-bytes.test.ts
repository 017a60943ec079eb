/**
 * `conmig sweep` on the local worker pool, as a user runs it: the same bytes
 * with one worker or two, run folders as `conmig run` writes them, merged
 * tables that say what the runs say.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { studentTQuantile } from '../../src/analysis/stats.ts';
import { conmig, expectNoStack, MERGED, readCsv, sweepDir, tree } from './helpers.ts';

const SWEEP = `name: local
scenarios: [FIXTURES/small.yaml]
policies: [never, threshold]
seeds: 1..2
grid:
  containers[*].memoryMiB: [64, 512]
points:
  - qosThresholdMs: 50
  - {}
`;

function summaryOf(out: string, id: string, policy: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(out, 'runs', id, policy, 'summary.json'), 'utf8')) as Record<string, unknown>;
}

// Several conmig processes per test; on a loaded 2-core machine a test takes a minute or two.
const SLOW = 300_000;

describe('conmig sweep (local)', () => {
  it(`--jobs above the cores (${availableParallelism()} here): the extra workers start once the runs are known; the same bytes as --jobs 1`, async () => {
    const { dir, file } = sweepDir('name: wide\nscenarios: [FIXTURES/small.yaml]\npolicies: [never, threshold]\nseeds: 1..2\ngrid:\n  durationS: [40, 60]\n');
    const jobs = String(availableParallelism() + 1);
    const wide = path.join(dir, 'wide');
    const one = path.join(dir, 'one');
    const rw = await conmig('sweep', file, '--jobs', jobs, '--out', wide);
    expect(rw.status, rw.stderr).toBe(0);
    expect(rw.stderr).toContain('8 run(s) now, 0 already done, 0 failed');
    expect((await conmig('sweep', file, '--jobs', '1', '--out', one)).status).toBe(0);
    for (const f of MERGED) expect(readFileSync(path.join(wide, f)).equals(readFileSync(path.join(one, f))), f).toBe(true);
    expect(tree(path.join(wide, 'runs'))).toEqual(tree(path.join(one, 'runs')));
  }, SLOW);

  it('--jobs 1 and --jobs 2 give the same bytes; each run folder is what conmig run writes; the tables say what the runs say', async () => {
    const { dir, file } = sweepDir(SWEEP);
    const one = path.join(dir, 'one');
    const two = path.join(dir, 'two');
    const r1 = await conmig('sweep', file, '--jobs', '1', '--out', one, '--svg');
    expectNoStack(r1);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stderr).toContain('sweep local: 16 run(s): 4 cell(s) x 2 policies x 2 seed(s); 0 already done');
    const r2 = await conmig('sweep', file, '--jobs', '2', '--out', two, '--svg');
    expect(r2.status, r2.stderr).toBe(0);
    for (const f of MERGED) expect(readFileSync(path.join(two, f)).equals(readFileSync(path.join(one, f))), f).toBe(true);
    expect(tree(path.join(two, 'runs'))).toEqual(tree(path.join(one, 'runs')));
    expect(tree(path.join(two, 'charts'))).toEqual(tree(path.join(one, 'charts')));
    expect(readdirSync(path.join(one, 'charts'))).toHaveLength(2 * 7);
    expect(readFileSync(path.join(one, 'sweep.json'), 'utf8')).toContain('"parameters": [\n    "containers[*].memoryMiB",\n    "qosThresholdMs"\n  ]');

    // results.csv: a row per run, in plan order, with the run's own summary numbers.
    const plan = JSON.parse(readFileSync(path.join(one, 'sweep.json'), 'utf8')) as { runs: { id: string; cell: number; policy: string; seed: number }[] };
    const rows = readCsv(path.join(one, 'results.csv'));
    expect(rows.map((r) => r.run)).toEqual(plan.runs.map((r) => r.id));
    for (const row of rows) {
      const s = summaryOf(one, row.run, row.policy) as { responseMs: { p95Ms: number }; requests: { generated: number }; qosThresholdMs: number; seed: number };
      expect(Number(row['responseMs.p95Ms'])).toBe(s.responseMs.p95Ms);
      expect(Number(row['requests.generated'])).toBe(s.requests.generated);
      expect(Number(row.qosThresholdMs)).toBe(s.qosThresholdMs);
      expect(Number(row.seed)).toBe(s.seed);
    }
    // A path a point leaves out is empty; a top-level number holds the run's value (the scenario's 100).
    expect(rows.map((r) => r['containers[*].memoryMiB'])).toEqual([...Array(4).fill('64'), ...Array(4).fill('512'), ...Array(8).fill('')]);
    expect(rows.map((r) => r.qosThresholdMs)).toEqual([...Array(8).fill('100'), ...Array(4).fill('50'), ...Array(4).fill('100')]);

    // cells.csv: mean and Student-t 95% interval over the two seeds, computed here from results.csv.
    const cells = readCsv(path.join(one, 'cells.csv'));
    expect(cells).toHaveLength(4 * 2 * 7);
    for (const c of cells.filter((x) => x.metric === 'p95Ms')) {
      const xs = rows.filter((r) => r.cell === c.cell && r.policy === c.policy).map((r) => Number(r['responseMs.p95Ms']));
      expect(xs).toHaveLength(2);
      const mean = (xs[0] + xs[1]) / 2;
      const sd = Math.abs(xs[0] - xs[1]) / Math.SQRT2;
      const half = (studentTQuantile(0.975, 1) * sd) / Math.SQRT2;
      expect(Number(c.n)).toBe(2);
      expect(Number(c.mean)).toBeCloseTo(mean, 9);
      expect(Number(c.ciLow)).toBeCloseTo(mean - half, 6);
      expect(Number(c.ciHigh)).toBeCloseTo(mean + half, 6);
    }
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706, 3);

    // A run folder is the folder conmig run writes for that scenario, policy and seed.
    const id = plan.runs.find((x) => x.cell === 4 && x.policy === 'threshold' && x.seed === 2)!.id;
    const ref = path.join(dir, 'ref');
    const scenario = (JSON.parse(readFileSync(path.join(one, 'sweep.json'), 'utf8')) as { scenarios: { file: string }[] }).scenarios[0].file;
    const run = await conmig('run', scenario, '--policy', 'threshold', '--seed', '2', '--out', ref, '--no-report', '--no-progress');
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(path.join(one, 'runs', id))).toEqual(['done.json', 'run.json', 'threshold']);
    // its run.json is the identity conmig run writes (the done marker has a name of its own)
    const identity = JSON.parse(readFileSync(path.join(one, 'runs', id, 'run.json'), 'utf8')) as { format: string; seed: number; policies: unknown; scenario: { hash: string } };
    const refIdentity = JSON.parse(readFileSync(path.join(ref, 'run.json'), 'utf8')) as typeof identity;
    expect(identity.format).toBe('conmig-run/1');
    expect({ seed: identity.seed, policies: identity.policies }).toEqual({ seed: refIdentity.seed, policies: refIdentity.policies });
    const summary = JSON.parse(readFileSync(path.join(one, 'runs', id, 'threshold', 'summary.json'), 'utf8')) as { scenario: { hash: string } };
    expect(identity.scenario.hash).toBe(summary.scenario.hash);
    expect(tree(path.join(one, 'runs', id, 'threshold'))).toEqual(tree(path.join(ref, 'threshold')));
  }, SLOW);
});
