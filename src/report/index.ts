export {
  buildCharts,
  type Chart,
  type ChartOptions,
  type LabelledRun,
  type VegaLiteTopLevelSpec,
} from './charts.ts';
export { renderSvg } from './render.ts';
export { writeReport, type ReportOptions } from './write.ts';
export { renderReportHtml, renderChartPage, loadChartLibraries, type ReportPageOptions, type ChartPageOptions } from './html.ts';
export { escapeHtml, renderPage, type PageOptions } from './page.ts';
export { chart, VEGA_LITE_SCHEMA } from './vega.ts';
export { formatSummaryTable, summaryTableRows, SUMMARY_COLUMNS, formatMs, formatBytes } from './table.ts';
