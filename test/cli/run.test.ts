/**
 * `conmig run` through main() in-process, as a user at the repository root runs it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conmig as runCli, type CliResult } from '../helpers/cli.ts';

const tmpRoots: string[] = [];

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'conmig-cli-run-'));
  tmpRoots.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

const conmig = (...args: string[]): Promise<CliResult> => runCli(args);

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

describe('conmig run', () => {
  it('simulates every policy of shareon-geni, writes run folders and the report, prints the summary table', async () => {
    const out = tmp();
    const r = await conmig('run', 'scenarios/shareon-geni.yaml', '--out', out, '--no-progress');
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.status).toBe(0);
    for (const policy of ['never', 'threshold']) {
      const summary = readJson(path.join(out, policy, 'summary.json'));
      expect(summary).toMatchObject({ schema: 'conmig-result/1', mode: 'sim', seed: 1, policy: { name: policy }, scenario: { name: 'shareon-geni' } });
      for (const f of ['timeseries.csv', 'latency-hist.csv', 'migrations.csv', 'node-load.csv']) {
        expect(existsSync(path.join(out, policy, f)), `${policy}/${f}`).toBe(true);
      }
    }
    // Same seed, same requests under both policies.
    const req = (p: string): unknown => (readJson(path.join(out, p, 'summary.json')).requests as { generated: number }).generated;
    expect(req('threshold')).toBe(req('never'));
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/^<!doctype html>/i);
    const charts = readdirSync(path.join(out, 'charts')).filter((f) => f.endsWith('.svg'));
    expect(charts.length).toBeGreaterThan(0);
    for (const c of charts) expect(readFileSync(path.join(out, 'charts', c), 'utf8')).toContain('<svg');
    // The table: a header and one row per policy.
    expect(r.stdout).toContain('shareon-geni (seed 1)');
    const lines = r.stdout.split('\n');
    expect(lines.some((l) => /^policy\s+requests\s+failed\s+mean ms/.test(l))).toBe(true);
    expect(lines.some((l) => /^never\s+\d+\s+\d+\s/.test(l))).toBe(true);
    expect(lines.some((l) => /^threshold\s+\d+\s+\d+\s/.test(l))).toBe(true);
    expect(r.stdout).toContain('report:');
    // Per-run statistics go to stderr, not into the table.
    expect(r.stderr).toMatch(/^never: \d+ requests/m);
    expect(r.stderr).toMatch(/^threshold: \d+ requests/m);
  });

  it('--policy and --seed: one run folder, labelled with the seed', async () => {
    const out = tmp();
    const r = await conmig('run', 'scenarios/shareon-geni.yaml', '--out', out, '--no-progress', '--policy', 'threshold', '--seed', '2');
    expect(r.status).toBe(0);
    expect(readJson(path.join(out, 'threshold', 'summary.json')).seed).toBe(2);
    expect(existsSync(path.join(out, 'never'))).toBe(false);
    expect(r.stdout).toContain('shareon-geni (seed 2)');
  });

  it('a bad seed: exit 2, one line, no stack trace, nothing written', async () => {
    const out = path.join(tmp(), 'not-created');
    const r = await conmig('run', 'scenarios/shareon-geni.yaml', '--out', out, '--no-progress', '--seed', 'abc');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['conmig: --seed: expected a non-negative integer, got "abc"']);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('a missing scenario file: exit 2, the message names the file, no stack trace', async () => {
    const r = await conmig('run', 'scenarios/no-such-scenario.yaml', '--no-progress', '--out', path.join(tmp(), 'x'));
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('conmig: scenario file not found: scenarios/no-such-scenario.yaml');
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.stdout).toBe('');
  });
});

describe('conmig run --seeds', () => {
  it('runs each seed in a child process, then the means with CIs: seeds.json, seeds.csv, seeds.html', async () => {
    const out = tmp();
    const r = await conmig('run', 'scenarios/shareon-geni.yaml', '--out', out, '--no-progress', '--policy', 'threshold', '--seeds', '1,2');
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.status).toBe(0);
    for (const seed of [1, 2]) expect(readJson(path.join(out, `seed-${seed}`, 'threshold', 'summary.json')).seed).toBe(seed);
    const agg = JSON.parse(readFileSync(path.join(out, 'seeds.json'), 'utf8')) as Array<{ policy: string; n: number; seeds: number[] }>;
    expect(agg).toMatchObject([{ policy: 'threshold', n: 2, seeds: [1, 2] }]);
    expect(readFileSync(path.join(out, 'seeds.csv'), 'utf8').split('\n')[0]).toBe('policy,metric,n,mean,sd,ciLow,ciHigh');
    expect(readFileSync(path.join(out, 'seeds.html'), 'utf8')).toContain('<svg');
    expect(r.stderr).toMatch(/^seed [12] done \(2\/2\)$/m);
    expect(r.stdout).toMatch(/^threshold\s+2\s/m);
  });

  it('a scenario with random starts: the seeds draw different starts, have one scenario hash, and aggregate', async () => {
    const out = tmp();
    const r = await conmig('run', 'test/sweep/fixtures/small.yaml', '--out', out, '--no-progress', '--policy', 'never', '--seeds', '1..2');
    expect(r.stderr).not.toContain('cannot be aggregated');
    expect(r.status).toBe(0);
    const s = [1, 2].map((seed) => readJson(path.join(out, `seed-${seed}`, 'never', 'summary.json')) as { scenario: { hash: string }; responseMs: { meanMs: number } });
    expect(s[0].scenario.hash).toBe(s[1].scenario.hash);
    expect(s[0].responseMs.meanMs).not.toBe(s[1].responseMs.meanMs);
    expect(JSON.parse(readFileSync(path.join(out, 'seeds.json'), 'utf8'))).toMatchObject([{ policy: 'never', n: 2, seeds: [1, 2] }]);
  });
});
