/**
 * Writing a report folder: report.html (self-contained) and charts/<id>.svg.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../results/write.ts';
import { buildCharts, type ChartOptions, type LabelledRun } from './charts.ts';
import { loadChartLibraries, renderReportHtml } from './html.ts';
import { renderSvg } from './render.ts';

export interface ReportOptions {
  title: string;
  scenarioName: string;
  qosThresholdMs: number;
  /** Chart tuning (log axis, heatmap threshold, ...); qosThresholdMs comes from above. */
  charts?: Omit<ChartOptions, 'qosThresholdMs'>;
}

/**
 * Write `dir/report.html` and `dir/charts/<chart id>.svg` for the given runs
 * (one per policy; `label` names it). SVGs are rendered one after another.
 */
export async function writeReport(
  dir: string,
  runs: LabelledRun[],
  opts: ReportOptions,
): Promise<{ htmlPath: string; svgPaths: string[] }> {
  const charts = buildCharts(runs, { ...opts.charts, qosThresholdMs: opts.qosThresholdMs });
  const chartDir = join(dir, 'charts');
  await mkdir(chartDir, { recursive: true });
  const svgPaths: string[] = [];
  for (const c of charts) {
    const path = join(chartDir, `${c.id}.svg`);
    await writeFileAtomic(path, await renderSvg(c.spec));
    svgPaths.push(path);
  }
  const htmlPath = join(dir, 'report.html');
  const libs = await loadChartLibraries();
  await writeFileAtomic(htmlPath, renderReportHtml(runs, charts, opts, libs));
  return { htmlPath, svgPaths };
}
