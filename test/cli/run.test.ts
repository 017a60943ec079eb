/**
 * `conmig run` through main() in-process, as a user at the repository root runs it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, conmig as runCli, type CliResult } from '../helpers/cli.ts';

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
    expect(lines.some((l) => /^policy\s+requests\s+failed\s+unfinished\s+mean ms/.test(l))).toBe(true);
    expect(lines.some((l) => /^never\s+\d+\s+\d+\s+\d+\s/.test(l))).toBe(true);
    expect(lines.some((l) => /^threshold\s+\d+\s+\d+\s+\d+\s/.test(l))).toBe(true);
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

  it('--no-agent on a simulation: exit 2, one line naming the flag, nothing written', async () => {
    const out = path.join(tmp(), 'never-created');
    const r = await conmig('run', 'scenarios/shareon-geni.yaml', '--out', out, '--no-agent');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['conmig: --no-agent is for live runs (--live or mode: live): a simulation has no nodes to run agents on']);
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

/** small.yaml (test/sweep/fixtures) with its text changed, in a folder of its own. */
function smallWith(edit: (text: string) => string): string {
  const file = path.join(tmp(), 'scenario.yaml');
  writeFileSync(file, edit(readFileSync(path.join(ROOT, 'test/sweep/fixtures/small.yaml'), 'utf8')));
  return file;
}

interface Summary {
  requests: { generated: number; served: number; failed: number; unfinished: number };
  qos: { fractionOver: number; violations: number; counted: number };
  migrations: { count: number; unfinished: number };
  responseMs: { count: number; meanMs: number | null };
}

describe('conmig run: work that did not finish is not hidden', () => {
  it('requests that never finish: the table, summary.json and the report say so, and the run exits 1 unless --allow-unfinished', async () => {
    // A service time of 1,000 s (the bound validate allows): nothing is answered within the 60 s run.
    const file = smallWith((t) => t.replace('serviceTime: { kind: exponential, meanMs: 40 }', 'serviceTime: { kind: deterministic, valueMs: 1e6 }').replace('policies: [never, threshold]', 'policies: [never]'));
    const out = path.join(tmp(), 'out');
    const r = await conmig('run', file, '--out', out, '--no-progress');
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.status).toBe(1);
    const s = readJson(path.join(out, 'never', 'summary.json')) as unknown as Summary;
    expect(s.requests.generated).toBeGreaterThan(1000);
    expect(s.requests.served).toBe(0);
    expect(s.requests.failed + s.requests.unfinished).toBe(s.requests.generated);
    // The clients gave up on those sent more than the 10 s timeout before the end.
    expect(s.requests.failed).toBeGreaterThan(s.requests.unfinished);
    expect(s.responseMs.meanMs).toBeNull();
    // Every request whose fate is known is a violation: 100%, not a blank.
    expect(s.qos.violations).toBe(s.qos.counted);
    expect(s.qos.counted).toBeGreaterThan(s.requests.failed);
    expect(s.qos.fractionOver).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^never\\s+${s.requests.generated}\\s+${s.requests.failed}\\s+${s.requests.unfinished}\\s+–\\s+–\\s+–\\s+–\\s+100\\.00%`, 'm'));
    expect(r.stderr).toMatch(new RegExp(`^warning: never: ${s.requests.generated.toLocaleString('en-US')} of ${s.requests.generated.toLocaleString('en-US')} requests \\(100\\.0%\\) got no answer`, 'm'));
    expect(r.stderr).toContain(`conmig: most requests got no answer in never (0 of ${s.requests.generated.toLocaleString('en-US')} served)`);
    expect(r.stderr).toContain('--allow-unfinished');
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="unfinished-warning"');
    expect(html).toContain('got no answer');

    const ok = await conmig('run', file, '--out', path.join(tmp(), 'out'), '--no-progress', '--no-report', '--allow-unfinished');
    expect(ok.status).toBe(0);
    expect(ok.stderr).toMatch(/^warning: never: .* got no answer/m);
    expect(ok.stderr).not.toContain('conmig: most requests');
  });

  it('a 0.5 Mbit/s backhaul: failed and unfinished requests and the migration that never finished are warned about; exit 0 while most are served', async () => {
    const file = smallWith((t) => t.replace('bandwidthMbps: 1000', 'bandwidthMbps: 0.5').replace('policies: [never, threshold]', 'policies: [nearest]'));
    const out = path.join(tmp(), 'out');
    const r = await conmig('run', file, '--out', out, '--no-progress', '--no-report');
    expect(r.status).toBe(0);
    const s = readJson(path.join(out, 'nearest', 'summary.json')) as unknown as Summary;
    expect(s.requests.failed).toBeGreaterThan(0);
    expect(s.migrations.unfinished).toBeGreaterThan(0);
    expect(s.migrations.unfinished).toBe(s.migrations.count);
    // Failed requests are violations: the fraction is over more than the served ones.
    expect(s.qos.counted).toBeGreaterThanOrEqual(s.requests.served + s.requests.failed);
    expect(s.qos.counted).toBeLessThanOrEqual(s.requests.generated);
    expect(s.qos.violations).toBeGreaterThanOrEqual(s.requests.failed);
    expect(s.qos.fractionOver).toBeCloseTo(s.qos.violations / s.qos.counted, 12);
    expect(r.stdout).toMatch(new RegExp(`^nearest\\s+${s.requests.generated}\\s+${s.requests.failed}\\s+${s.requests.unfinished}\\s.*${s.migrations.count} \\(${s.migrations.unfinished} unfinished\\)`, 'm'));
    expect(r.stderr).toMatch(/^warning: nearest: [\d,]+ of [\d,]+ requests \([\d.]+%\) got no answer \([\d,]+ failed/m);
    expect(r.stderr).toMatch(new RegExp(`^warning: nearest: ${s.migrations.unfinished} of ${s.migrations.count} migrations never finished`, 'm'));
  });

  it('under --seeds the seeds run to the end and the aggregate is written, then the same verdict over every seed', async () => {
    const file = smallWith((t) => t.replace('serviceTime: { kind: exponential, meanMs: 40 }', 'serviceTime: { kind: deterministic, valueMs: 1e6 }').replace('policies: [never, threshold]', 'policies: [never]').replace('durationS: 60', 'durationS: 20'));
    const out = tmp();
    const r = await conmig('run', file, '--out', out, '--no-progress', '--seeds', '1,2');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^seed 1 done/m);
    expect(r.stderr).toMatch(/^seed 2 done/m);
    expect(existsSync(path.join(out, 'seeds.json'))).toBe(true);
    expect(r.stderr).toMatch(/^warning: seed 1 never: .* got no answer/m);
    expect(r.stderr).toMatch(/^conmig: most requests got no answer in seed 1 never \(0 of [\d,]+ served\), seed 2 never/m);
    const ok = await conmig('run', file, '--out', tmp(), '--no-progress', '--seeds', '1,2', '--allow-unfinished');
    expect(ok.status).toBe(0);
  });

  it('a healthy run: no warning', async () => {
    const r = await conmig('run', 'scenarios/shareon-geni.yaml', '--out', tmp(), '--no-progress', '--no-report');
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('warning:');
  });
});

describe('conmig run --seeds: a seed that fails', () => {
  it('is reported as failed with its whole error line, the others are aggregated into seeds.json, and the command exits 1', async () => {
    // The policy throws when c-walker-0 starts on the node it starts on with seed 1 (a start drawn from the seed).
    const { loadScenario } = await import('../../src/scenario-io/load.ts');
    const small = path.join(ROOT, 'test/sweep/fixtures/small.yaml');
    const nodeOf = async (seed: number) => (await loadScenario(small, { seed })).containers.find((c) => c.id === 'c-walker-0')!.node;
    const bad = await nodeOf(1);
    let good = 2;
    while ((await nodeOf(good)) === bad) good++;
    const module = path.join(ROOT, 'test/run/fixtures/seed-boom-policy.ts');
    const file = smallWith((t) =>
      t.replace('durationS: 60', 'durationS: 10').replace('policies: [never, threshold]', `policies:\n  - never\n  - { name: boom, module: ${JSON.stringify(module)}, params: { node: ${bad} } }`),
    );
    const out = tmp();
    const r = await conmig('run', file, '--out', out, '--no-progress', '--seeds', `1,${good}`);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.status).toBe(1);
    const failedLine = r.stderr.split('\n').find((l) => l.startsWith('seed 1 '));
    expect(failedLine).toMatch(/^seed 1 FAILED \([12]\/2\): conmig: /);
    // The child's message whole, to its end.
    expect(failedLine).toContain(`seed-boom: c-walker-0 started on ${bad}, a line long enough to be cut ${'x'.repeat(300)} end`);
    expect(r.stderr).toMatch(new RegExp(`^seed ${good} done \\([12]/2\\)$`, 'm'));
    expect(r.stderr).not.toMatch(/^seed 1 done/m);
    const agg = JSON.parse(readFileSync(path.join(out, 'seeds.json'), 'utf8')) as Array<{ policy: string; n: number; seeds: number[] }>;
    // (In folder order.)
    expect(agg).toMatchObject([
      { policy: 'boom', n: 1, seeds: [good] },
      { policy: 'never', n: 1, seeds: [good] },
    ]);
    expect(r.stdout).toContain(`1 of 2 seeds (failed: 1)`);
    expect(r.stderr).toMatch(/^conmig: 1 of 2 seeds failed \(1\); seeds\.json covers the 1 that finished/m);
  });
});
