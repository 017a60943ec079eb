/**
 * `conmig run` as a child process, the way a user runs it (cwd = repository root).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tmpRoots: string[] = [];

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'conmig-cli-run-'));
  tmpRoots.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

function conmig(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CONMIG_DEBUG: '', CI: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

describe('conmig run', () => {
  it('simulates every policy of shareon-geni, writes run folders and the report, prints the summary table', () => {
    const out = tmp();
    const r = conmig('run', 'scenarios/shareon-geni.yaml', '--out', out, '--no-progress');
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

  it('--policy and --seed: one run folder, labelled with the seed', () => {
    const out = tmp();
    const r = conmig('run', 'scenarios/shareon-geni.yaml', '--out', out, '--no-progress', '--policy', 'threshold', '--seed', '2');
    expect(r.status).toBe(0);
    expect(readJson(path.join(out, 'threshold', 'summary.json')).seed).toBe(2);
    expect(existsSync(path.join(out, 'never'))).toBe(false);
    expect(r.stdout).toContain('shareon-geni (seed 2)');
  });

  it('a bad seed: exit 2, one line, no stack trace, nothing written', () => {
    const out = path.join(tmp(), 'not-created');
    const r = conmig('run', 'scenarios/shareon-geni.yaml', '--out', out, '--no-progress', '--seed', 'abc');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['conmig: --seed: expected a non-negative integer, got "abc"']);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('a missing scenario file: exit 2, the message names the file, no stack trace', () => {
    const r = conmig('run', 'scenarios/no-such-scenario.yaml', '--no-progress', '--out', path.join(tmp(), 'x'));
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('conmig: scenario file not found: scenarios/no-such-scenario.yaml');
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.stdout).toBe('');
  });
});
