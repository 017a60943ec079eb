import { describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { compareRuns } from '../../src/analysis/compare.ts';
import { cdfPoints, comparisonCharts, comparisonHtml, comparisonJson, comparisonTable } from '../../src/report/compare.ts';
import { createRng, lognormalSamples, migration, syntheticRun } from '../analysis/synthetic.ts';

const base = lognormalSamples(createRng(3, 'report'), 2000, 30, 0.3);
const migs = [migration({ id: 1, containerId: 'c1', downtimeMs: 400 }), migration({ id: 2, containerId: 'c2', downtimeMs: 600 })];
const userSeries = ['u1', 'u2'].flatMap((u) =>
  [0, 10, 20, 30].map((t) => ({ windowStartS: t, userId: u, requests: 5, meanMs: 30 + t, nodeId: t < 20 ? 'n1' : 'n2' })),
);
const a = syntheticRun({ label: 'live', samplesMs: base, migrations: migs, mode: 'live', userSeries });
const b = syntheticRun({ label: 'sim', samplesMs: base.map((x) => x * 1.3), migrations: migs.map((m) => ({ ...m, downtimeMs: m.downtimeMs * 1.1 })), withSamples: true, userSeries });
const result = compareRuns([a, b]);

describe('comparison report', () => {
  it('builds four charts whose specs compile without warnings', () => {
    const charts = comparisonCharts([a, b], result);
    expect(charts.map((c) => c.id)).toEqual(['cdf', 'percentiles', 'user-series', 'migration-cost']);
    for (const c of charts) {
      const warnings: string[] = [];
      compile(c.spec, { logger: { level: () => 0, warn: (...m: unknown[]) => (warnings.push(m.join(' ')), undefined), info: () => undefined, debug: () => undefined, error: (...m: unknown[]) => (warnings.push(m.join(' ')), undefined) } as never });
      expect(warnings, c.id).toEqual([]);
    }
  });

  it('marks a migration where the serving node changes, per user and run', () => {
    const chart = comparisonCharts([a, b], result).find((c) => c.id === 'user-series');
    const values = (chart?.spec as { data: { values: Array<{ kind: string; windowStartS: number }> } }).data.values;
    const marks = values.filter((v) => v.kind === 'migration');
    expect(marks).toHaveLength(4); // 2 users x 2 runs, each at t = 20
    expect(marks.every((m) => m.windowStartS === 20)).toBe(true);
  });

  it('CDF points end at 1 and rise monotonically', () => {
    for (const r of [a, b]) {
      const pts = cdfPoints(r);
      expect(pts[pts.length - 1].fraction).toBe(1);
      for (let i = 1; i < pts.length; i++) expect(pts[i].fraction).toBeGreaterThanOrEqual(pts[i - 1].fraction);
      expect(pts.length).toBeLessThanOrEqual(402);
    }
  });

  it('HTML carries the verdict sentences, the SVGs and the specs; the table the same sentences', () => {
    const charts = comparisonCharts([a, b], result).map((c) => ({ ...c, svg: `<svg id="${c.id}"></svg>` }));
    const html = comparisonHtml(result, charts);
    expect(html).toMatch(/p95 differs by (29|30)\.\d% \(tolerance 10%\): the runs disagree/);
    expect(html).toContain('<svg id="migration-cost"></svg>');
    expect(html).toContain('class="vega-lite-spec" data-chart="cdf"');
    expect(html).toContain('The runs disagree beyond tolerance.');
    const table = comparisonTable(result);
    expect(table).toContain('live (ref)');
    expect(table).toMatch(/sim vs live\s+downtime\s+agree\s+migration downtime differs by 10\.0% on average/);
    expect(table).toContain('overall: the runs DISAGREE beyond tolerance');
  });

  it('comparison.json turns NaN into null', () => {
    const same = compareRuns([syntheticRun({ label: 'x', samplesMs: base }), syntheticRun({ label: 'y', samplesMs: base })]);
    const json = JSON.parse(comparisonJson(same)) as { verdicts: Array<{ metric: string; value: number | null }> };
    expect(json.verdicts.find((v) => v.metric === 'downtime')?.value).toBeNull();
  });
});
