/**
 * The comparison report as data (pure): Vega-Lite chart specs, the HTML page
 * (with pre-rendered SVGs passed in) and the terminal table. Rendering the
 * specs to SVG (src/report renderSvg) and writing files happen at the edge
 * (cli/compare.ts).
 */
import type { ComparableRun, ComparisonResult, Verdict } from '../analysis/compare.ts';
import { percentileName } from '../analysis/compare.ts';
import { bytesToMiB } from '../model/units.ts';
import { escapeHtml, renderPage, scriptJson } from './page.ts';
import { chart, type Chart } from './vega.ts';

/** A chart of the comparison (id = file stem of charts/<id>.svg). */
export type ChartSpec = Chart;

/** Users shown in the per-user time series (the first ones by id). */
export const MAX_USERS_CHARTED = 6;
/** Points per run in the CDF chart. */
const MAX_CDF_POINTS = 400;

type Row = Record<string, string | number | boolean | null>;

/** CDF points of a run: from its samples when present, else its histogram's bucket upper edges. */
export function cdfPoints(run: ComparableRun): Array<{ ms: number; fraction: number }> {
  const pts: Array<{ ms: number; fraction: number }> = [];
  if (run.samplesMs && run.samplesMs.length > 0) {
    const s = run.samplesMs;
    const step = Math.max(1, Math.floor(s.length / MAX_CDF_POINTS));
    for (let i = step - 1; i < s.length; i += step) pts.push({ ms: Number(s[i].toPrecision(5)), fraction: (i + 1) / s.length });
    if (pts[pts.length - 1]?.fraction !== 1) pts.push({ ms: Number(s[s.length - 1].toPrecision(5)), fraction: 1 });
    return pts.filter((p) => p.ms > 0);
  }
  const n = run.histogram.reduce((a, r) => a + r.count, 0);
  let seen = 0;
  const step = Math.max(1, Math.ceil(run.histogram.length / MAX_CDF_POINTS));
  run.histogram.forEach((r, i) => {
    seen += r.count;
    if (i % step === step - 1 || i === run.histogram.length - 1) pts.push({ ms: r.upperMs, fraction: seen / n });
  });
  return pts;
}

export function cdfChart(runs: readonly ComparableRun[]): ChartSpec {
  const values: Row[] = runs.flatMap((r) => cdfPoints(r).map((p) => ({ run: r.label, ms: p.ms, fraction: p.fraction })));
  return chart('cdf', 'Response-time CDF', {
    width: 520,
    height: 300,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'ms', type: 'quantitative', title: 'response time (ms, log scale)', scale: { type: 'log' } },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of requests', scale: { domain: [0, 1] } },
      color: { field: 'run', type: 'nominal', sort: runs.map((r) => r.label) },
    },
  });
}

export function percentileChart(result: ComparisonResult): ChartSpec {
  const values: Row[] = result.runs.flatMap((r) =>
    r.percentiles.map((p) => ({ run: r.label, percentile: percentileName(p.q), valueMs: p.valueMs, loMs: p.ci.lo, hiMs: p.ci.hi })),
  );
  const order = result.runs.map((r) => r.label);
  return chart('percentiles', `Percentiles with ${Math.round(result.level * 100)}% CIs`, {
    width: 520,
    height: 300,
    data: { values },
    encoding: {
      x: { field: 'percentile', type: 'nominal', sort: ['p50', 'p90', 'p95', 'p99'], title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'run', type: 'nominal', sort: order },
      color: { field: 'run', type: 'nominal', sort: order },
    },
    layer: [
      { mark: { type: 'bar', opacity: 0.6 }, encoding: { y: { field: 'valueMs', type: 'quantitative', title: 'ms' } } },
      { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'loMs', type: 'quantitative' }, y2: { field: 'hiMs' } } },
    ],
  }, `Percentiles with ${Math.round(result.level * 100)}% confidence intervals`);
}

/**
 * Per-user latency over time, one panel per user (first MAX_USERS_CHARTED
 * users), one line per run. A migration of the user's container is marked
 * where the serving node changes between two windows of the user's series.
 * Null when no run has user-series.csv.
 */
export function userSeriesChart(runs: readonly ComparableRun[]): ChartSpec | null {
  const withSeries = runs.filter((r) => r.userSeries && r.userSeries.length > 0);
  if (withSeries.length === 0) return null;
  const users = [...new Set(withSeries.flatMap((r) => (r.userSeries ?? []).map((u) => u.userId)))].sort().slice(0, MAX_USERS_CHARTED);
  const keep = new Set(users);
  const values: Row[] = [];
  for (const r of withSeries) {
    const lastNode = new Map<string, string>();
    const rows = [...(r.userSeries ?? [])].filter((u) => keep.has(u.userId)).sort((a, b) => a.windowStartS - b.windowStartS);
    for (const u of rows) {
      values.push({ kind: 'latency', run: r.label, user: u.userId, windowStartS: u.windowStartS, meanMs: u.requests > 0 ? u.meanMs : null });
      const prev = lastNode.get(u.userId);
      if (prev !== undefined && prev !== u.nodeId) {
        values.push({ kind: 'migration', run: r.label, user: u.userId, windowStartS: u.windowStartS, meanMs: null, to: u.nodeId });
      }
      lastNode.set(u.userId, u.nodeId);
    }
  }
  const order = runs.map((r) => r.label);
  return chart('user-series', 'Per-user latency over time (migrations marked)', {
    data: { values },
    facet: { row: { field: 'user', type: 'nominal', title: null } },
    spec: {
      width: 520,
      height: 110,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'latency'" }],
          mark: { type: 'line', point: false },
          encoding: {
            x: { field: 'windowStartS', type: 'quantitative', title: 'scenario time (s)' },
            y: { field: 'meanMs', type: 'quantitative', title: 'mean ms' },
            color: { field: 'run', type: 'nominal', sort: order },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'migration'" }],
          mark: { type: 'rule', strokeDash: [4, 3] },
          encoding: {
            x: { field: 'windowStartS', type: 'quantitative' },
            color: { field: 'run', type: 'nominal', sort: order },
          },
        },
      ],
    },
  }, `Per-user mean latency per window (first ${users.length} users; dashed rules: serving node changed)`);
}

/** Simulated (y) vs reference (x) migration cost per paired migration, with the y = x line. Null when nothing paired. */
export function migrationCostChart(result: ComparisonResult): ChartSpec | null {
  const values: Row[] = [];
  const metrics: Array<[string, (m: { downtimeMs: number; totalMs: number; bytes: number }) => number]> = [
    ['downtime (ms)', (m) => m.downtimeMs],
    ['total (ms)', (m) => m.totalMs],
    ['bytes (MiB)', (m) => bytesToMiB(m.bytes)],
  ];
  for (const mc of result.migrations) {
    for (const p of mc.pairs) {
      for (const [metric, get] of metrics) {
        values.push({ kind: 'pair', run: mc.run, metric, x: get(p.reference), y: get(p.other), container: p.containerId, k: p.k });
      }
    }
  }
  if (values.length === 0) return null;
  for (const [metric] of metrics) {
    const vs = values.filter((v) => v.metric === metric).flatMap((v) => [v.x as number, v.y as number]);
    // From 0 to the largest value on both axes: with zero-based scales both axes get the same domain.
    const hi = Math.max(...vs);
    values.push({ kind: 'diagonal', run: null, metric, x: 0, y: 0 }, { kind: 'diagonal', run: null, metric, x: hi, y: hi });
  }
  return chart('migration-cost', `Migration cost: runs vs ${result.reference}`, {
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: metrics.map(([m]) => m) } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 220,
      height: 220,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'diagonal'" }],
          mark: { type: 'line', color: '#999' },
          encoding: { x: { field: 'x', type: 'quantitative', scale: { zero: true } }, y: { field: 'y', type: 'quantitative', scale: { zero: true } } },
        },
        {
          transform: [{ filter: "datum.kind === 'pair'" }],
          mark: { type: 'point', filled: true },
          encoding: {
            x: { field: 'x', type: 'quantitative', title: result.reference, scale: { zero: true } },
            y: { field: 'y', type: 'quantitative', title: 'run', scale: { zero: true } },
            color: { field: 'run', type: 'nominal' },
            tooltip: [{ field: 'container' }, { field: 'k' }, { field: 'x' }, { field: 'y' }],
          },
        },
      ],
    },
  }, `Migration cost per paired migration: each run (y) vs ${result.reference} (x); grey line y = x`);
}

/** Every chart of the report, in page order (charts without data are left out). */
export function comparisonCharts(runs: readonly ComparableRun[], result: ComparisonResult): ChartSpec[] {
  return [cdfChart(runs), percentileChart(result), userSeriesChart(runs), migrationCostChart(result)].filter(
    (c): c is ChartSpec => c !== null,
  );
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

function fmtMs(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function verdictMark(v: Verdict['verdict']): string {
  return v === 'agree' ? 'agree' : v === 'disagree' ? 'DISAGREE' : 'n/a';
}

/** JSON that survives NaN/Infinity (as null) and typed arrays (as arrays). */
export function comparisonJson(result: ComparisonResult): string {
  return (
    JSON.stringify(
      result,
      (_k, v: unknown) => {
        if (typeof v === 'number' && !Number.isFinite(v)) return null;
        if (v instanceof Float64Array) return Array.from(v);
        return v;
      },
      2,
    ) + '\n'
  );
}

/** The compact terminal table. */
export function comparisonTable(result: ComparisonResult): string {
  const lines: string[] = [];
  const header = ['run', 'mode', 'policy', 'seed', 'n', 'source', ...result.runs[0].percentiles.map((p) => `${percentileName(p.q)} ms [CI]`)];
  const rows = result.runs.map((r) => [
    r.label + (r.label === result.reference ? ' (ref)' : ''),
    r.mode,
    r.policy,
    String(r.seed),
    String(r.count),
    r.source,
    ...r.percentiles.map((p) => `${fmtMs(p.valueMs)} [${fmtMs(p.ci.lo)}, ${fmtMs(p.ci.hi)}]`),
  ]);
  lines.push(...alignColumns([header, ...rows]));
  if (result.differences.length > 0) {
    lines.push('');
    lines.push(
      `${result.sameScenario ? 'same scenario' : 'DIFFERENT scenarios'}; differing: ` +
        result.differences.map((d) => `${d.field} (${d.values.join(' vs ')})`).join(', '),
    );
  }
  lines.push('');
  const vrows = result.verdicts.map((v) => [`${v.run} vs ${v.reference}`, v.metric, verdictMark(v.verdict), v.sentence]);
  lines.push(...alignColumns(vrows));
  lines.push('');
  lines.push(result.agree ? 'overall: the runs agree within tolerance' : 'overall: the runs DISAGREE beyond tolerance');
  return lines.join('\n') + '\n';
}

function alignColumns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}

/**
 * The HTML page: tables of runs and verdicts, then every chart as inline SVG
 * with its Vega-Lite spec kept alongside (application/json) for re-use.
 * Self-contained: no scripts or styles are loaded from anywhere.
 */
export function comparisonHtml(result: ComparisonResult, charts: ReadonlyArray<ChartSpec & { svg: string }>): string {
  const runRows = result.runs
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.label)}${r.label === result.reference ? ' <em>(reference)</em>' : ''}</td><td>${r.mode}</td>` +
        `<td>${escapeHtml(r.policy)}</td><td>${r.seed}</td><td>${r.count}</td><td>${r.source}</td><td>${fmtMs(r.meanMs)}</td>` +
        r.percentiles.map((p) => `<td>${fmtMs(p.valueMs)} <small>[${fmtMs(p.ci.lo)}, ${fmtMs(p.ci.hi)}]</small></td>`).join('') +
        `<td>${r.migrations}</td><td><code>${escapeHtml(r.dir)}</code></td></tr>`,
    )
    .join('\n');
  const verdictRows = result.verdicts
    .map(
      (v) =>
        `<tr class="${v.verdict}"><td>${escapeHtml(v.run)} vs ${escapeHtml(v.reference)}</td><td>${escapeHtml(v.metric)}</td>` +
        `<td>${verdictMark(v.verdict)}</td><td>${escapeHtml(v.sentence)}</td></tr>`,
    )
    .join('\n');
  const diffs =
    result.differences.length === 0
      ? '<p>All runs are of the same scenario, policy, seed, duration and mode.</p>'
      : `<p>${result.sameScenario ? 'Same scenario (equal hashes); the runs differ in' : '<strong>Different scenarios</strong> (compared with --allow-mismatch); they differ in'}: ` +
        result.differences.map((d) => `${d.field} (${escapeHtml(d.values.join(' vs '))})`).join(', ') +
        '.</p>';
  const chartBlocks = charts
    .map(
      (c) =>
        `<section class="chart"><h2>${escapeHtml(c.title)}</h2>\n<div class="chart-body">${c.svg}</div>\n` +
        `<script type="application/json" class="vega-lite-spec" data-chart="${escapeHtml(c.id)}">${scriptJson(c.spec)}</script></section>`,
    )
    .join('\n');
  const t = result.tolerance;
  return renderPage({
    title: 'conmig compare',
    style: `
tr.agree td:nth-child(3) { color: #1a7f37; }
tr.disagree td:nth-child(3) { color: #c0262d; font-weight: bold; }
tr.n\\/a td:nth-child(3) { color: #777; }
.overall { font-size: 1.2em; }
`,
    bodyHtml: `<p class="overall">${result.agree ? 'The runs agree within tolerance.' : '<strong>The runs disagree beyond tolerance.</strong>'}
Reference: <strong>${escapeHtml(result.reference)}</strong>. Tolerances: percentiles ${t.percentileRel * 100}%, downtime ${t.downtimeRel * 100}% (mean relative error), KS D ${t.ksD}.</p>
${diffs}
<h2>Agreement</h2>
<table class="summary wrap"><thead><tr><th>runs</th><th>metric</th><th>verdict</th><th>why</th></tr></thead><tbody>
${verdictRows}
</tbody></table>
<h2>Runs</h2>
<table class="summary"><thead><tr><th>run</th><th>mode</th><th>policy</th><th>seed</th><th>requests</th><th>source</th><th>mean ms</th>${result.runs[0].percentiles
    .map((p) => `<th>${percentileName(p.q)} ms [${Math.round(result.level * 100)}% CI]</th>`)
    .join('')}<th>migrations</th><th>folder</th></tr></thead><tbody>
${runRows}
</tbody></table>
<p><small>Percentile CIs: order statistics with binomial ranks (source samples = requests.csv), or the same ranks mapped to whole histogram buckets (source histogram). KS D from histograms is a lower bound of the samples' D. Migrations are paired by container and order.</small></p>
${chartBlocks}`,
  });
}
