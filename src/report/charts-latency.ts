/** The run report's latency charts: over time, the CDF, and the mean by component. */
import type { TopLevelSpec } from 'vega-lite';
import { policyColor, type ChartSettings, type LabelledRun } from './charts-common.ts';
import { chart, num as n, type Chart, type Datum } from './vega.ts';

const COMPONENTS = [
  { key: 'network', label: 'network' },
  { key: 'queue', label: 'queue' },
  { key: 'service', label: 'service' },
  { key: 'migrationWait', label: 'migration wait' },
] as const;

export function latencyOverTime(runs: LabelledRun[], labels: string[], o: ChartSettings): Chart {
  const values: Datum[] = [];
  for (const r of runs) {
    for (const t of r.timeseries) {
      values.push({ policy: r.label, windowStartS: t.windowStartS, statistic: 'mean', ms: n(t.meanMs) });
      values.push({ policy: r.label, windowStartS: t.windowStartS, statistic: 'p95', ms: n(t.p95Ms) });
    }
  }
  const title = 'Response time over time (mean and p95 per window)';
  return chart('latency-over-time', title, {
    width: o.widthPx,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: values.length <= 200 },
        encoding: {
          x: { field: 'windowStartS', type: 'quantitative', title: 'scenario time (s)' },
          y: { field: 'ms', type: 'quantitative', title: 'response time (ms)' },
          color: policyColor(labels),
          strokeDash: {
            field: 'statistic',
            type: 'nominal',
            title: 'statistic',
            scale: { domain: ['mean', 'p95'] },
            legend: { symbolType: 'stroke' },
          },
        },
      },
      qosRule('y', o.qosThresholdMs),
    ],
  });
}

export function qosRule(axis: 'x' | 'y', qosMs: number): NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']>[number] {
  return {
    data: { values: [{ qosMs, label: `QoS ${qosMs} ms` }] },
    layer: [
      {
        mark: { type: 'rule', color: '#c0392b', strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { [axis]: { field: 'qosMs', type: 'quantitative' } },
      },
      {
        mark:
          axis === 'y'
            ? { type: 'text', color: '#c0392b', align: 'right', baseline: 'bottom', dy: -2, x: 'width' }
            : { type: 'text', color: '#c0392b', align: 'left', baseline: 'top', dx: 3, y: 0 },
        encoding: { [axis]: { field: 'qosMs', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  };
}

export function latencyCdf(runs: LabelledRun[], labels: string[], o: ChartSettings): Chart {
  const values: Datum[] = [];
  for (const r of runs) {
    const total = r.histogram.reduce((a, b) => a + b.count, 0);
    if (total === 0) continue;
    let seen = 0;
    const first = r.histogram[0];
    const startMs = o.logLatencyAxis && first.lowerMs <= 0 ? first.upperMs / 2 : first.lowerMs;
    values.push({ policy: r.label, ms: startMs, fraction: 0 });
    for (const b of r.histogram) {
      seen += b.count;
      values.push({ policy: r.label, ms: b.upperMs, fraction: seen / total });
    }
  }
  const title = 'Response time CDF (whole run)';
  return chart('latency-cdf', title, {
    width: o.widthPx,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: 'line', interpolate: 'linear' },
        encoding: {
          x: {
            field: 'ms',
            type: 'quantitative',
            title: 'response time (ms)',
            scale: o.logLatencyAxis ? { type: 'log' } : { zero: true },
          },
          y: { field: 'fraction', type: 'quantitative', title: 'fraction of requests ≤ x', scale: { domain: [0, 1] } },
          color: policyColor(labels),
        },
      },
      qosRule('x', o.qosThresholdMs),
    ],
  });
}

export function decomposition(runs: LabelledRun[], labels: string[], o: ChartSettings): Chart {
  const values: Datum[] = [];
  for (const r of runs) {
    COMPONENTS.forEach((c, order) => {
      values.push({ policy: r.label, component: c.label, order, ms: n(r.summary.componentsMeanMs[c.key]) });
    });
  }
  const title = 'Mean response time by component';
  return chart('latency-decomposition', title, {
    width: o.widthPx,
    height: { step: 28 },
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'policy', type: 'nominal', title: 'policy', sort: labels },
      x: { field: 'ms', type: 'quantitative', title: 'mean response time (ms)', stack: 'zero' },
      color: {
        field: 'component',
        type: 'nominal',
        title: 'component',
        scale: { domain: COMPONENTS.map((c) => c.label) },
      },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [
        { field: 'policy', type: 'nominal' },
        { field: 'component', type: 'nominal' },
        { field: 'ms', type: 'quantitative', format: '.2f' },
      ],
    },
  });
}
