/**
 * The multi-seed summary (`conmig run --seeds`): per policy the mean of each
 * metric over the seeds with its Student-t interval, as a terminal table,
 * a chart and a page.
 */
import type { SeedAggregate } from '../analysis/seeds.ts';
import { escapeHtml, renderPage, unfinishedWarningHtml } from './page.ts';
import { chart, type Chart } from './vega.ts';

/** Terminal table: mean ± CI half-width per policy. */
export function formatSeedsTable(agg: readonly SeedAggregate[]): string {
  const fmt = (m: SeedAggregate['metrics'][keyof SeedAggregate['metrics']], digits: number): string =>
    Number.isFinite(m.ci.halfWidth) ? `${m.mean.toFixed(digits)} ± ${m.ci.halfWidth.toFixed(digits)}` : m.mean.toFixed(digits);
  const pct = (m: SeedAggregate['metrics']['qosViolationFraction']): typeof m => ({ ...m, mean: m.mean * 100, ci: { ...m.ci, halfWidth: m.ci.halfWidth * 100 } });
  const head = ['policy', 'seeds', 'mean ms', 'p50 ms', 'p95 ms', 'p99 ms', 'QoS viol. %', 'migrations'];
  const rows = agg.map((a) => [
    a.policy,
    String(a.n),
    fmt(a.metrics.meanMs, 1),
    fmt(a.metrics.p50Ms, 1),
    fmt(a.metrics.p95Ms, 1),
    fmt(a.metrics.p99Ms, 1),
    fmt(pct(a.metrics.qosViolationFraction), 2),
    fmt(a.metrics.migrations, 0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const table = [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n(mean over seeds ± half-width of the 95% Student-t interval)';
  const warnings = seedWarnings(agg);
  return warnings.length === 0 ? table : `${table}\nNot everything finished (the latencies describe only the served requests):\n${warnings.map((w) => `  ${w}`).join('\n')}`;
}

/** `policy, seed N: sentence` for every seed with unanswered requests or unfinished migrations. */
function seedWarnings(agg: readonly SeedAggregate[]): string[] {
  return agg.flatMap((a) => a.warnings.map((w) => `${a.policy}, ${w}`));
}

/** p50/p95/p99 per policy: the mean over the seeds and its interval. */
export function seedsChart(agg: readonly SeedAggregate[], scenarioName: string): Chart {
  const values = agg.flatMap((a) =>
    (['p50Ms', 'p95Ms', 'p99Ms'] as const).map((m) => ({
      policy: a.policy,
      percentile: m.replace('Ms', ''),
      mean: a.metrics[m].mean,
      lo: Number.isFinite(a.metrics[m].ci.lo) ? a.metrics[m].ci.lo : a.metrics[m].mean,
      hi: Number.isFinite(a.metrics[m].ci.hi) ? a.metrics[m].ci.hi : a.metrics[m].mean,
    })),
  );
  const color = { field: 'policy', type: 'nominal', legend: null } as const;
  return chart('seeds-percentiles', `${scenarioName}: response-time percentiles over ${agg[0]?.n ?? 0} seeds (95% CI)`, {
    data: { values },
    facet: { column: { field: 'percentile', type: 'nominal', title: null } },
    spec: {
      width: 180,
      height: 220,
      layer: [
        {
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x: { field: 'policy', type: 'nominal', title: null },
            y: { field: 'mean', type: 'quantitative', title: 'response time (ms), mean over seeds', scale: { zero: false } },
            color,
          },
        },
        { mark: { type: 'rule' }, encoding: { x: { field: 'policy', type: 'nominal' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  });
}

/** seeds.html: the table and the chart (its SVG rendered by the caller). */
export function seedsHtml(agg: readonly SeedAggregate[], scenarioName: string, svg: string): string {
  return renderPage({
    title: seedsChart(agg, scenarioName).title,
    heading: `${scenarioName}: ${agg[0]?.n ?? 0} seeds`,
    bodyHtml: `${unfinishedWarningHtml(seedWarnings(agg))}<pre>${escapeHtml(formatSeedsTable(agg))}</pre>
<section class="chart">${svg}</section>
<p>Each seed is an independent replication; intervals are Student-t on the per-seed values. Runs are in the seed-&lt;n&gt; folders.</p>`,
  });
}

