/**
 * The report's charts as Vega-Lite specs with their data inlined (pure: no
 * I/O). One chart compares all runs (policies) of a scenario. NaN values
 * become null so a spec is the same whether it is rendered in Node or
 * serialised into the HTML page.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { RunData } from '../model/results.ts';
import { chart, num as n, type Chart, type Datum } from './vega.ts';

export type { Chart, VegaLiteTopLevelSpec } from './vega.ts';

export type LabelledRun = RunData & { label: string };

export interface ChartOptions {
  qosThresholdMs: number;
  /** Log x axis on the latency CDF (default true). */
  logLatencyAxis?: boolean;
  /** Node-load chart: above this many nodes a heatmap replaces the lines (default 8). */
  heatmapAboveNodes?: number;
  /** Per-user chart: at most this many users (first by id; default 8). */
  maxUsers?: number;
  /** Migration timeline: at most this many containers, those that moved most (default 30). */
  maxTimelineContainers?: number;
  /** Chart width in pixels (default 640). */
  widthPx?: number;
}

const COMPONENTS = [
  { key: 'network', label: 'network' },
  { key: 'queue', label: 'queue' },
  { key: 'service', label: 'service' },
  { key: 'migrationWait', label: 'migration wait' },
] as const;

function policyColor(labels: string[]): { field: string; type: 'nominal'; title: string; scale: { domain: string[] } } {
  return { field: 'policy', type: 'nominal', title: 'policy', scale: { domain: labels } };
}

/** Width of a report window: the smallest positive step between window starts. */
function windowWidthS(starts: number[], fallbackS: number): number {
  const sorted = [...new Set(starts)].sort((a, b) => a - b);
  let w = Infinity;
  for (let i = 1; i < sorted.length; i++) w = Math.min(w, sorted[i] - sorted[i - 1]);
  return Number.isFinite(w) && w > 0 ? w : fallbackS;
}

function latencyOverTime(runs: LabelledRun[], labels: string[], o: Required<ChartOptions>): Chart {
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

function qosRule(axis: 'x' | 'y', qosMs: number): NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']>[number] {
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

function latencyCdf(runs: LabelledRun[], labels: string[], o: Required<ChartOptions>): Chart {
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

/** A chart that only says there is nothing to show (keeps chart ids stable). */
function emptyChart(id: string, title: string, text: string, o: Required<ChartOptions>): Chart {
  return chart(id, title, {
    width: o.widthPx,
    height: 60,
    data: { values: [{ text }] },
    mark: { type: 'text', fontSize: 14, color: '#666' },
    encoding: { text: { field: 'text' } },
  });
}

function migrationTimeline(runs: LabelledRun[], labels: string[], o: Required<ChartOptions>): Chart {
  // With hundreds of moving containers one row each is unreadable (and the page
  // huge): keep the containers that moved most, ties by id, and say so.
  const moves = new Map<string, number>();
  for (const r of runs) for (const m of r.migrations) moves.set(m.containerId, (moves.get(m.containerId) ?? 0) + 1);
  const shown = new Set(
    [...moves.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, o.maxTimelineContainers)
      .map(([id]) => id),
  );
  const title =
    shown.size < moves.size
      ? `Migrations of the ${shown.size} containers that moved most, of ${moves.size} (start → end; dark = downtime)`
      : 'Migrations (start → end; dark = downtime)';
  const values: Datum[] = [];
  for (const r of runs) {
    for (const m of r.migrations) {
      if (!shown.has(m.containerId)) continue;
      const endS = m.startS + Math.max(m.totalMs, 0) / 1000;
      // Downtime ends when the container runs again at the destination, i.e. before lazy page fetching.
      const downEndS = Math.max(m.startS, endS - Math.max(m.lazyPagesMs, 0) / 1000);
      const downStartS = Math.max(m.startS, downEndS - Math.max(m.downtimeMs, 0) / 1000);
      values.push({
        policy: r.label,
        container: m.containerId,
        route: `${m.from} → ${m.to}`,
        status: m.status,
        reason: m.reason,
        startS: n(m.startS),
        endS: n(endS),
        downStartS: n(downStartS),
        downEndS: n(downEndS),
        downtimeMs: n(m.downtimeMs),
        totalMs: n(m.totalMs),
      });
    }
  }
  if (values.length === 0) return emptyChart('migration-timeline', title, 'No migrations in any run', o);
  const containers = [...new Set(values.map((v) => String(v.container)))].sort();
  const y = { field: 'container', type: 'nominal' as const, title: 'container', sort: containers };
  const yOffset = { field: 'policy', type: 'nominal' as const, scale: { domain: labels } };
  const tooltip = [
    { field: 'policy', type: 'nominal' as const },
    { field: 'container', type: 'nominal' as const },
    { field: 'route', type: 'nominal' as const },
    { field: 'status', type: 'nominal' as const },
    { field: 'startS', type: 'quantitative' as const, title: 'start (s)' },
    { field: 'totalMs', type: 'quantitative' as const, title: 'total (ms)' },
    { field: 'downtimeMs', type: 'quantitative' as const, title: 'downtime (ms)' },
    { field: 'reason', type: 'nominal' as const },
  ];
  return chart('migration-timeline', title, {
    width: o.widthPx,
    // With yOffset the step is per policy sub-band: about 24 px per container row in all.
    height: { step: Math.max(6, Math.round(24 / labels.length)) },
    data: { values },
    encoding: { y, yOffset },
    layer: [
      {
        mark: { type: 'bar', opacity: 0.55 },
        encoding: {
          x: { field: 'startS', type: 'quantitative', title: 'scenario time (s)' },
          x2: { field: 'endS' },
          color: policyColor(labels),
          tooltip,
        },
      },
      {
        mark: { type: 'bar', color: '#222' },
        encoding: { x: { field: 'downStartS', type: 'quantitative' }, x2: { field: 'downEndS' } },
      },
      {
        // Migrations last seconds in runs of hours: a tick at the start keeps each one visible.
        mark: { type: 'tick', thickness: 2 },
        encoding: {
          x: { field: 'startS', type: 'quantitative' },
          color: policyColor(labels),
          opacity: { condition: { test: "datum.status === 'ok'", value: 1 }, value: 0.4 },
          tooltip,
        },
      },
    ],
  });
}

function nodeLoad(runs: LabelledRun[], labels: string[], o: Required<ChartOptions>): Chart {
  const nodes = new Set<string>();
  const values: Datum[] = [];
  for (const r of runs) {
    const w = windowWidthS(
      r.nodeLoad.map((x) => x.windowStartS),
      r.summary.durationS,
    );
    for (const x of r.nodeLoad) {
      nodes.add(x.nodeId);
      values.push({
        policy: r.label,
        node: x.nodeId,
        windowStartS: x.windowStartS,
        windowEndS: x.windowStartS + w,
        utilisation: n(x.utilisation),
        requests: x.requests,
        containers: x.containers,
      });
    }
  }
  const nodeList = [...nodes].sort();
  const heatmap = nodeList.length > o.heatmapAboveNodes;
  const title = heatmap ? 'Node utilisation (window × node)' : 'Node utilisation over time';
  if (values.length === 0) return emptyChart('node-load', title, 'No node load recorded', o);
  const x = { field: 'windowStartS', type: 'quantitative' as const, title: 'scenario time (s)' };
  return chart('node-load', title, {
    data: { values },
    facet: { row: { field: 'policy', type: 'nominal', title: 'policy', sort: labels } },
    spec: heatmap
      ? {
          width: o.widthPx,
          height: { step: Math.max(2, Math.min(14, Math.floor(400 / nodeList.length))) },
          mark: { type: 'rect' },
          encoding: {
            x,
            x2: { field: 'windowEndS' },
            y: { field: 'node', type: 'nominal', sort: nodeList, axis: nodeList.length > 40 ? { labels: false, ticks: false } : {} },
            color: { field: 'utilisation', type: 'quantitative', title: 'utilisation', scale: { scheme: 'viridis', domain: [0, 1] } },
            tooltip: [
              { field: 'node', type: 'nominal' },
              { field: 'windowStartS', type: 'quantitative' },
              { field: 'utilisation', type: 'quantitative', format: '.2f' },
            ],
          },
        }
      : {
          width: o.widthPx,
          height: 140,
          mark: { type: 'line' },
          encoding: {
            x,
            y: { field: 'utilisation', type: 'quantitative', title: 'utilisation', scale: { domain: [0, 1] } },
            color: { field: 'node', type: 'nominal', title: 'node', scale: { domain: nodeList } },
          },
        },
  });
}

function decomposition(runs: LabelledRun[], labels: string[], o: Required<ChartOptions>): Chart {
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

function userSeries(runs: LabelledRun[], labels: string[], o: Required<ChartOptions>): Chart | null {
  const withUsers = runs.filter((r) => r.userSeries !== null && r.userSeries.length > 0);
  if (withUsers.length === 0) return null;
  const allUsers = [...new Set(withUsers.flatMap((r) => (r.userSeries ?? []).map((u) => u.userId)))].sort();
  const users = allUsers.slice(0, o.maxUsers);
  const shown = new Set(users);
  // One dataset (facets share their data): `kind` tells user rows from migration instants.
  const values: Datum[] = [];
  for (const r of withUsers) {
    for (const u of r.userSeries ?? []) {
      if (!shown.has(u.userId)) continue;
      values.push({ kind: 'user', policy: r.label, user: u.userId, windowStartS: u.windowStartS, ms: n(u.meanMs), node: u.nodeId });
    }
    for (const m of r.migrations) {
      values.push({ kind: 'migration', policy: r.label, startS: m.startS, container: m.containerId, status: m.status });
    }
  }
  const more = allUsers.length > users.length ? ` (first ${users.length} of ${allUsers.length} users)` : '';
  const title = `Per-user mean response time; dashed = migration start${more}`;
  return chart('user-series', title, {
    data: { values },
    facet: { row: { field: 'policy', type: 'nominal', title: 'policy', sort: labels.filter((l) => withUsers.some((r) => r.label === l)) } },
    spec: {
      width: o.widthPx,
      height: 150,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'migration'" }],
          mark: { type: 'rule', strokeDash: [3, 3], color: '#888' },
          encoding: {
            x: { field: 'startS', type: 'quantitative' },
            tooltip: [
              { field: 'container', type: 'nominal' },
              { field: 'startS', type: 'quantitative' },
              { field: 'status', type: 'nominal' },
            ],
          },
        },
        {
          transform: [{ filter: "datum.kind === 'user'" }],
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'windowStartS', type: 'quantitative', title: 'scenario time (s)' },
            y: { field: 'ms', type: 'quantitative', title: 'mean response time (ms)' },
            color: { field: 'user', type: 'nominal', title: 'user', scale: { domain: users } },
            tooltip: [
              { field: 'user', type: 'nominal' },
              { field: 'windowStartS', type: 'quantitative' },
              { field: 'ms', type: 'quantitative', format: '.2f' },
              { field: 'node', type: 'nominal' },
            ],
          },
        },
      ],
    },
  });
}

/**
 * All charts for a set of runs (one per policy), in report order:
 * latency-over-time, latency-cdf, migration-timeline, node-load,
 * latency-decomposition, and user-series when any run has per-user series.
 */
export function buildCharts(runs: LabelledRun[], opts: ChartOptions): Chart[] {
  const o: Required<ChartOptions> = {
    logLatencyAxis: true,
    heatmapAboveNodes: 8,
    maxUsers: 8,
    maxTimelineContainers: 30,
    widthPx: 640,
    ...opts,
  };
  const labels = runs.map((r) => r.label);
  const charts = [
    latencyOverTime(runs, labels, o),
    latencyCdf(runs, labels, o),
    migrationTimeline(runs, labels, o),
    nodeLoad(runs, labels, o),
    decomposition(runs, labels, o),
  ];
  const users = userSeries(runs, labels, o);
  if (users) charts.push(users);
  return charts;
}
