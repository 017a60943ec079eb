/**
 * The report's charts as Vega-Lite specs with their data inlined (pure: no
 * I/O). One chart compares all runs (policies) of a scenario. NaN values
 * become null so a spec is the same whether it is rendered in Node or
 * serialised into the HTML page.
 */
import type { ChartOptions, ChartSettings, LabelledRun } from './charts-common.ts';
import { migrationTimeline, nodeLoad, userSeries } from './charts-cluster.ts';
import { decomposition, latencyCdf, latencyOverTime } from './charts-latency.ts';
import type { Chart } from './vega.ts';

export type { ChartOptions, LabelledRun } from './charts-common.ts';
export type { Chart, VegaLiteTopLevelSpec } from './vega.ts';

/**
 * All charts for a set of runs (one per policy), in report order:
 * latency-over-time, latency-cdf, migration-timeline, node-load,
 * latency-decomposition, and user-series when any run has per-user series.
 */
export function buildCharts(runs: LabelledRun[], opts: ChartOptions): Chart[] {
  const o: ChartSettings = {
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
