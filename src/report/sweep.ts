/**
 * The sweep's report: for each swept field and each metric, the metric's mean
 * over seeds against the field's values, one line per policy with its 95%
 * confidence band. The other swept fields are not averaged over: each
 * combination of them (and each scenario) is its own panel. A field whose
 * values are all numbers gets a numeric axis; others (ranges, names) an
 * ordinal one in the sweep file's order. Specs are pure; the page is the
 * chart page of src/report/html.ts.
 */
import { SEED_METRICS, type SeedMetric } from '../analysis/seeds.ts';
import type { CellAggregate } from '../sweep/tables.ts';
import type { SweepPlan } from '../sweep/plan.ts';
import { escapeHtml } from './page.ts';
import { chart, num as finite, type Chart, type ChartBody, type Datum } from './vega.ts';

export const METRIC_TITLES: Record<SeedMetric, string> = {
  meanMs: 'mean response time (ms)',
  p50Ms: 'p50 response time (ms)',
  p95Ms: 'p95 response time (ms)',
  p99Ms: 'p99 response time (ms)',
  qosViolationFraction: 'QoS violation fraction',
  migrations: 'migrations',
  bytesTotal: 'bytes moved',
};

function label(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Charts of every metric against `parameter`. */
function parameterCharts(plan: SweepPlan, cells: readonly CellAggregate[], parameter: string, pIndex: number): Chart[] {
  const withP = cells.filter((c) => c.cell.overrides.some((o) => o.path === parameter));
  if (withP.length === 0) return [];
  const values = withP.map((c) => c.cell.overrides.find((o) => o.path === parameter)!.value);
  const numeric = values.every((v) => typeof v === 'number' && Number.isFinite(v));
  const order = [...new Set(values.map(label))];
  const panelOf = (c: CellAggregate): string => {
    const others = c.cell.overrides.filter((o) => o.path !== parameter).map((o) => `${o.path} = ${label(o.value)}`);
    return [...(plan.scenarios.length > 1 ? [plan.scenarios[c.cell.scenario].name] : []), ...others].join(', ') || 'all';
  };
  const panels = [...new Set(withP.map(panelOf))];
  return SEED_METRICS.map((m) => {
    const data: Datum[] = withP.flatMap((c) =>
      c.policies.map((a) => {
        const e = a.metrics[m];
        const v = c.cell.overrides.find((o) => o.path === parameter)!.value;
        return { x: numeric ? (v as number) : label(v), panel: panelOf(c), policy: a.policy, mean: finite(e.mean), lo: finite(e.ci.lo), hi: finite(e.ci.hi), n: e.n };
      }),
    );
    const x = numeric
      ? { field: 'x', type: 'quantitative' as const, title: parameter, scale: { zero: false } }
      : { field: 'x', type: 'ordinal' as const, title: parameter, sort: order };
    const color = { field: 'policy', type: 'nominal' as const, title: 'policy' };
    const layer = [
      { mark: { type: 'errorband' as const, opacity: 0.2 }, encoding: { x, y: { field: 'lo', type: 'quantitative' as const, title: METRIC_TITLES[m] }, y2: { field: 'hi' }, color } },
      {
        mark: { type: 'line' as const, point: true },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative' as const, title: METRIC_TITLES[m], scale: { zero: false } },
          color,
          tooltip: [{ field: 'policy' }, { field: 'x', title: parameter }, { field: 'mean' }, { field: 'lo', title: '95% CI low' }, { field: 'hi', title: '95% CI high' }, { field: 'n', title: 'seeds' }],
        },
      },
    ];
    const title = `${METRIC_TITLES[m]} vs ${parameter}`;
    const body = (
      panels.length > 1
        ? { data: { values: data }, facet: { field: 'panel', type: 'nominal', title: null, sort: panels }, columns: 3, spec: { width: 240, height: 170, layer } }
        : { data: { values: data }, width: 480, height: 260, layer }
    ) as ChartBody;
    return chart(`p${pIndex + 1}-${m}`, title, body);
  });
}

/** Without swept fields: each metric per policy (and scenario), mean with its interval. */
function policyCharts(plan: SweepPlan, cells: readonly CellAggregate[]): Chart[] {
  return SEED_METRICS.map((m) => {
    const data: Datum[] = cells.flatMap((c) =>
      c.policies.map((a) => ({ scenario: plan.scenarios[c.cell.scenario].name, policy: a.policy, mean: finite(a.metrics[m].mean), lo: finite(a.metrics[m].ci.lo), hi: finite(a.metrics[m].ci.hi) })),
    );
    const x = { field: 'policy', type: 'nominal' as const, title: null };
    const title = `${METRIC_TITLES[m]} per policy`;
    const body = {
      data: { values: data },
      width: 360,
      height: 220,
      layer: [
        { mark: { type: 'rule' }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: METRIC_TITLES[m] }, y2: { field: 'hi' }, color: { field: 'scenario', type: 'nominal' } } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y: { field: 'mean', type: 'quantitative', scale: { zero: false } }, color: { field: 'scenario', type: 'nominal' } } },
      ],
    } as ChartBody;
    return chart(`policy-${m}`, title, body);
  });
}

export function sweepCharts(plan: SweepPlan, cells: readonly CellAggregate[]): Chart[] {
  if (cells.length === 0) return [];
  if (plan.parameters.length === 0) return policyCharts(plan, cells);
  return plan.parameters.flatMap((p, i) => parameterCharts(plan, cells, p, i));
}

const fmt = (x: number): string => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3)) : '–');

/** The cells table of the page: per cell and policy, mean ± CI half-width of the key metrics. */
export function cellsTableHtml(plan: SweepPlan, cells: readonly CellAggregate[]): string {
  const metrics: SeedMetric[] = ['meanMs', 'p95Ms', 'p99Ms', 'qosViolationFraction', 'migrations', 'bytesTotal'];
  const head = ['cell', ...(plan.scenarios.length > 1 ? ['scenario'] : []), ...plan.parameters, 'policy', 'seeds', ...metrics.map((m) => METRIC_TITLES[m])];
  const rows = cells.flatMap(({ cell, policies }) =>
    policies.map((a) => {
      const params = plan.parameters.map((p) => {
        const o = cell.overrides.find((x) => x.path === p);
        return o ? label(o.value) : '(scenario)';
      });
      const ms = metrics.map((m) => {
        const e = a.metrics[m];
        return Number.isFinite(e.ci.halfWidth) ? `${fmt(e.mean)} ± ${fmt(e.ci.halfWidth)}` : fmt(e.mean);
      });
      const cellsHtml = [String(cell.index), ...(plan.scenarios.length > 1 ? [plan.scenarios[cell.scenario].name] : []), ...params, a.policy, String(a.n)]
        .map((c) => `<td>${escapeHtml(c)}</td>`)
        .concat(ms.map((c) => `<td class="num">${escapeHtml(c)}</td>`));
      return `<tr>${cellsHtml.join('')}</tr>`;
    }),
  );
  return `<div style="overflow-x:auto"><table class="summary">
<thead><tr>${head.map((h, i) => `<th${i >= head.length - metrics.length ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></div>
<p class="sub">Mean over seeds ± half-width of the 95% Student-t interval. Every run: results.csv; per cell and metric with the interval: cells.csv.</p>`;
}
