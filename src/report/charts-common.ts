/** What the run report's charts share: the runs, the options, colours and the empty chart. */
import type { RunData } from '../model/results.ts';
import { chart, type Chart } from './vega.ts';

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

/** The options with every default filled in. */
export type ChartSettings = Required<ChartOptions>;

export function policyColor(labels: string[]): { field: string; type: 'nominal'; title: string; scale: { domain: string[] } } {
  return { field: 'policy', type: 'nominal', title: 'policy', scale: { domain: labels } };
}

/** Width of a report window: the smallest positive step between window starts. */
export function windowWidthS(starts: number[], fallbackS: number): number {
  const sorted = [...new Set(starts)].sort((a, b) => a - b);
  let w = Infinity;
  for (let i = 1; i < sorted.length; i++) w = Math.min(w, sorted[i] - sorted[i - 1]);
  return Number.isFinite(w) && w > 0 ? w : fallbackS;
}

/** A chart that only says there is nothing to show (keeps chart ids stable). */
export function emptyChart(id: string, title: string, text: string, o: ChartSettings): Chart {
  return chart(id, title, {
    width: o.widthPx,
    height: 60,
    data: { values: [{ text }] },
    mark: { type: 'text', fontSize: 14, color: '#666' },
    encoding: { text: { field: 'text' } },
  });
}
