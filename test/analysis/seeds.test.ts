import { describe, expect, it } from 'vitest';
import { aggregateSeeds } from '../../src/analysis/seeds.ts';
import type { RunData } from '../../src/model/results.ts';
import { syntheticRun } from './synthetic.ts';

function run(policy: string, seed: number, p95Ms: number, migrations: number, hash = 'h'): RunData {
  const r = syntheticRun({ label: `${policy}-${seed}`, samplesMs: [10, 20, 30], policy, seed, hash });
  r.summary.responseMs.p95Ms = p95Ms;
  r.summary.migrations.count = migrations;
  return r;
}

describe('aggregateSeeds', () => {
  it('mean and t-CI per policy: p95 {10, 12, 14} -> 12 +- 4.302653 * 2 / sqrt(3) = 12 +- 4.968276', () => {
    const a = aggregateSeeds([run('nearest', 1, 10, 3), run('never', 1, 50, 0), run('nearest', 2, 12, 5), run('nearest', 3, 14, 4), run('never', 2, 52, 0)]);
    expect(a.map((x) => [x.policy, x.n])).toEqual([
      ['nearest', 3],
      ['never', 2],
    ]);
    const p95 = a[0].metrics.p95Ms;
    expect(p95.mean).toBe(12);
    expect(p95.sd).toBe(2);
    expect(p95.ci.halfWidth).toBeCloseTo(4.968276, 5);
    expect(a[0].metrics.migrations.mean).toBe(4);
    expect(a[0].seeds).toEqual([1, 2, 3]);
    // two seeds: t(0.975, 1) = 12.7062; sd of {50, 52} = sqrt(2) -> half = 12.7062 * sqrt(2) / sqrt(2)
    expect(a[1].metrics.p95Ms.ci.halfWidth).toBeCloseTo(12.706205, 4);
    expect(a[1].metrics.migrations.ci.halfWidth).toBe(0);
  });

  it('refuses runs of different scenarios and a repeated seed', () => {
    expect(() => aggregateSeeds([run('a', 1, 1, 0, 'h1'), run('a', 2, 1, 0, 'h2')])).toThrow(/different scenarios/);
    expect(() => aggregateSeeds([run('a', 1, 1, 0), run('a', 1, 1, 0)])).toThrow(/seed 1 appears twice/);
  });
});

describe('unfinished seeds in the multi-seed summary', () => {
  it('names each seed whose requests went unanswered, in the table and above it in seeds.html', async () => {
    const { formatSeedsTable, seedsHtml } = await import('../../src/report/seeds.ts');
    const bad = run('nearest', 2, 12, 5);
    bad.summary.requests = { generated: 1000, served: 900, failed: 40, unfinished: 60 };
    const agg = aggregateSeeds([run('nearest', 1, 10, 3), bad]);
    expect(agg[0].warnings).toHaveLength(1);
    expect(agg[0].warnings[0]).toMatch(/^seed 2: 100 of 1,000 requests \(10\.0%\) got no answer \(40 failed, 60 never finished\)/);
    expect(formatSeedsTable(agg)).toContain('nearest, seed 2: 100 of 1,000 requests');
    const html = seedsHtml(agg, 'x', '<svg/>');
    expect(html).toContain('id="unfinished-warning"');
    expect(html.indexOf('unfinished-warning')).toBeLessThan(html.indexOf('<pre>'));
    const clean = aggregateSeeds([run('nearest', 1, 10, 3)]);
    expect(clean[0].warnings).toEqual([]);
    expect(seedsHtml(clean, 'x', '<svg/>')).not.toContain('unfinished-warning');
  });
});
