import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import {
  buildCharts,
  formatSummaryTable,
  renderReportHtml,
  renderSvg,
  writeReport,
  type Chart,
  type VegaLiteTopLevelSpec,
} from '../../src/report/index.ts';
import { FIXTURE_QOS_MS } from '../results/fixture.ts';
import { manyNodeRuns, twoPolicyRuns } from './fixtures.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'conmig-report-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

type CompileOptions = NonNullable<Parameters<typeof compile>[1]>;

/** Compile with a logger that collects vega-lite's warnings. */
function compileWarnings(spec: VegaLiteTopLevelSpec): string[] {
  const warnings: string[] = [];
  const logger = {
    level(): number {
      return 0;
    },
    error(...args: readonly unknown[]) {
      warnings.push(`error: ${args.map(String).join(' ')}`);
      return this;
    },
    warn(...args: readonly unknown[]) {
      warnings.push(args.map(String).join(' '));
      return this;
    },
    info() {
      return this;
    },
    debug() {
      return this;
    },
  };
  compile(spec, { logger } as unknown as CompileOptions);
  return warnings;
}

function walk(v: unknown, visit: (x: unknown, key: string) => void, key = ''): void {
  visit(v, key);
  if (Array.isArray(v)) v.forEach((x) => walk(x, visit, key));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, visit, k);
}

const ALL_IDS = ['latency-over-time', 'latency-cdf', 'migration-timeline', 'node-load', 'latency-decomposition', 'user-series'];

describe('buildCharts', () => {
  const charts = buildCharts(twoPolicyRuns(), { qosThresholdMs: FIXTURE_QOS_MS });

  it('builds the six charts in report order, with titles', () => {
    expect(charts.map((c) => c.id)).toEqual(ALL_IDS);
    for (const c of charts) {
      expect(c.title.length).toBeGreaterThan(5);
      expect(c.spec.title).toBe(c.title);
    }
  });

  it('compiles every spec without vega-lite warnings', () => {
    for (const c of [...charts, ...buildCharts(manyNodeRuns(), { qosThresholdMs: 50 })]) {
      expect(compileWarnings(c.spec), c.id).toEqual([]);
    }
  });

  it('inlines the data (no URLs) and never puts NaN into a spec', () => {
    for (const c of charts) {
      walk(c.spec, (x, key) => {
        expect(key).not.toBe('url');
        if (typeof x === 'number') expect(Number.isFinite(x), `${c.id}.${key}`).toBe(true);
      });
    }
    const byId = new Map(charts.map((c) => [c.id, c]));
    const overTime = JSON.stringify(byId.get('latency-over-time')?.spec);
    expect(overTime).toContain('"policy":"nearest"');
    expect(overTime).toContain(`"qosMs":${FIXTURE_QOS_MS}`);
    expect(JSON.stringify(byId.get('latency-cdf')?.spec)).toContain(`"qosMs":${FIXTURE_QOS_MS}`);
  });

  it('the CDF reaches 1 for every policy', () => {
    const cdf = charts.find((c) => c.id === 'latency-cdf') as Chart;
    const values: Array<{ policy: string; fraction: number }> = [];
    walk(cdf.spec, (x, key) => {
      if (key === 'values' && Array.isArray(x)) values.push(...(x as typeof values).filter((v) => 'fraction' in v));
    });
    for (const p of ['never', 'nearest']) {
      const f = values.filter((v) => v.policy === p).map((v) => v.fraction);
      expect(f[0]).toBe(0);
      expect(f[f.length - 1]).toBe(1);
      for (let i = 1; i < f.length; i++) expect(f[i]).toBeGreaterThanOrEqual(f[i - 1]);
    }
  });

  it('switches node load to a heatmap for many nodes and drops the per-user chart without series', () => {
    const big = buildCharts(manyNodeRuns(), { qosThresholdMs: 50 });
    expect(big.map((c) => c.id)).toEqual(ALL_IDS.slice(0, 5));
    const load = JSON.stringify(big.find((c) => c.id === 'node-load')?.spec);
    expect(load).toContain('"type":"rect"');
    expect(JSON.stringify(charts.find((c) => c.id === 'node-load')?.spec)).toContain('"type":"line"');
  });

  it('shows a note instead of an empty migration timeline', () => {
    const runs = twoPolicyRuns().map((r) => ({ ...r, migrations: [] }));
    const c = buildCharts(runs, { qosThresholdMs: 50 }).find((x) => x.id === 'migration-timeline');
    expect(JSON.stringify(c?.spec)).toContain('No migrations in any run');
  });

  it('is deterministic', () => {
    expect(JSON.stringify(buildCharts(twoPolicyRuns(), { qosThresholdMs: FIXTURE_QOS_MS }))).toBe(JSON.stringify(charts));
  });
});

describe('renderSvg', () => {
  it('renders every chart to an SVG that shows its title (text widths estimated without canvas)', async () => {
    for (const c of [...buildCharts(twoPolicyRuns(), { qosThresholdMs: 50 }), ...buildCharts(manyNodeRuns(), { qosThresholdMs: 50 })]) {
      const svg = await renderSvg(c.spec);
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain(c.title.replace(/&/g, '&amp;'));
      expect(svg).toMatch(/<path|<rect|<line/);
    }
  });

  it('turns a broken spec into a ConmigError naming the chart', async () => {
    const bad = { title: 'Broken', mark: 'nonsense' } as unknown as VegaLiteTopLevelSpec;
    await expect(renderSvg(bad)).rejects.toThrow(/cannot render chart "Broken"/);
  });
});

describe('writeReport', () => {
  it('writes report.html and one SVG per chart, deterministically and offline', async () => {
    const opts = { title: 'Fixture <report>', scenarioName: 'fixture-corridor', qosThresholdMs: FIXTURE_QOS_MS };
    const a = await writeReport(join(root, 'a'), twoPolicyRuns(), opts);
    const b = await writeReport(join(root, 'b'), twoPolicyRuns(), opts);
    expect(a.svgPaths.map((p) => basename(p))).toEqual(ALL_IDS.map((id) => `${id}.svg`));
    const html = await readFile(a.htmlPath, 'utf8');
    expect(await readFile(b.htmlPath, 'utf8')).toBe(html);
    for (const [i, p] of a.svgPaths.entries()) expect(await readFile(b.svgPaths[i], 'utf8')).toBe(await readFile(p, 'utf8'));
    // Offline: no script or stylesheet from the network.
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).toContain('<title>Fixture &#60;report&#62;</title>');
    expect(html.length).toBeGreaterThan(500_000); // vega + vega-lite inlined
    for (const id of ALL_IDS) expect(html).toContain(`id="chart-${id}"`);
    expect(html).toMatch(/<td>nearest<\/td><td class="num">1204<\/td><td class="num">3<\/td><td class="num">1<\/td>/);
    expect(html).toContain('window.__conmigReport');
    // 4 of 1,204 requests unanswered (under 1%): no warning.
    expect(html).not.toContain('id="unfinished-warning"');
  });

  it('warns above the table when many requests got no answer or migrations never finished', () => {
    const runs = twoPolicyRuns();
    const r = runs[1];
    r.summary.requests = { ...r.summary.requests, failed: 400, unfinished: 20, served: r.summary.requests.generated - 420 };
    r.summary.migrations.unfinished = r.summary.migrations.count;
    const html = renderReportHtml(runs, [], { title: 't', scenarioName: 's', qosThresholdMs: FIXTURE_QOS_MS }, { vega: '', vegaLite: '' });
    const box = /<div class="warning" role="alert" id="unfinished-warning">(.*?)<\/div>/s.exec(html)?.[1] ?? '';
    expect(box).toContain(`<li>${r.label}: 420 of 1,204 requests (34.9%) got no answer (400 failed, 20 never finished): the latencies describe only the served ones</li>`);
    expect(box).toContain(`<li>${r.label}: ${r.summary.migrations.count} of ${r.summary.migrations.count} migrations never finished`);
    expect(html.indexOf('unfinished-warning')).toBeLessThan(html.indexOf('<table class="summary">'));
  });
});

describe('formatSummaryTable', () => {
  it('prints an aligned plain table, ANSI only when asked', () => {
    const text = formatSummaryTable(twoPolicyRuns());
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^policy\s+requests\s+failed\s+unfinished\s+mean ms\s+p50 ms\s+p95 ms\s+p99 ms\s+QoS viol\.\s+migrations\s+moved\s+mean downtime ms$/);
    expect(lines[2]).toMatch(/^never\s+1201\s+0\s+1\s+/);
    expect(lines[3]).toMatch(/^nearest\s+1204\s+3\s+1\s+.*3 \(1 failed\)\s+768\.0 MiB\s+875$/);
    expect(new Set(lines.map((l) => [...l].length)).size).toBe(1);
    expect(text).not.toContain('\u001b');
    expect(formatSummaryTable(twoPolicyRuns(), { color: true })).toContain('\u001b[1m');
  });
});
