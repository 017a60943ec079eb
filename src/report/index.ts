export {
  buildCharts,
  type Chart,
  type ChartOptions,
  type LabelledRun,
  type VegaLiteTopLevelSpec,
} from './charts.ts';
export { renderSvg } from './render.ts';
export { writeReport, type ReportOptions } from './write.ts';
export { renderReportHtml, loadChartLibraries, escapeHtml, type ReportPageOptions } from './html.ts';
export { formatSummaryTable, summaryTableRows, SUMMARY_COLUMNS, formatMs, formatBytes } from './table.ts';
