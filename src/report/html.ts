/**
 * The self-contained HTML report: summary table + charts (each under an <h2>
 * with its title; the spec's own title is dropped in the page, kept in the SVGs). The machine that
 * opens it may be offline, so Vega and Vega-Lite are inlined from
 * node_modules (no CDN). The page compiles each Vega-Lite spec and renders it
 * with a vega.View into its container, then records the outcome where a test
 * (or a curious human) can see it:
 *   - each chart container gets data-status="ok" or data-status="error: <message>";
 *   - window.__conmigReport = { charts, rendered, errors: [{id, message}], done };
 *   - the same object as JSON in <html data-conmig-report="...">, so a plain
 *     `chromium --dump-dom` shows it.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { healthWarnings } from '../analysis/health.ts';
import { ConmigError } from '../model/errors.ts';
import type { LabelledRun } from './charts.ts';
import { escapeHtml, renderPage, scriptJson, unfinishedWarningHtml } from './page.ts';
import { SUMMARY_COLUMNS, summaryTableRows } from './table.ts';
import type { Chart } from './vega.ts';

/** A library's bundle text, made safe to inline in a <script> element. */
function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}

let libCache: { vega: string; vegaLite: string } | undefined;

/** Vega and Vega-Lite browser bundles from node_modules. */
export async function loadChartLibraries(): Promise<{ vega: string; vegaLite: string }> {
  if (libCache) return libCache;
  const require = createRequire(import.meta.url);
  const paths = {
    vega: join(dirname(require.resolve('vega')), 'vega.min.js'),
    vegaLite: join(dirname(require.resolve('vega-lite')), 'vega-lite.min.js'),
  };
  try {
    libCache = { vega: await readFile(paths.vega, 'utf8'), vegaLite: await readFile(paths.vegaLite, 'utf8') };
  } catch (cause) {
    throw new ConmigError('SETUP_MISSING', 'the Vega/Vega-Lite browser bundles are missing from node_modules (npm install)', {
      context: paths,
      cause,
    });
  }
  return libCache;
}

const RUNTIME = `
(function () {
  var report = window.__conmigReport;
  function mirror() { document.documentElement.setAttribute('data-conmig-report', JSON.stringify(report)); }
  function fail(id, el, e) {
    var msg = String((e && e.message) || e);
    if (el) { el.setAttribute('data-status', 'error: ' + msg); el.textContent = 'Chart failed to render: ' + msg; }
    report.errors.push({ id: id, message: msg });
  }
  var charts;
  try { charts = JSON.parse(document.getElementById('conmig-charts').textContent); }
  catch (e) { fail('(data)', null, e); report.done = true; mirror(); return; }
  var pending = charts.map(function (c) {
    var el = document.getElementById('chart-' + c.id);
    return Promise.resolve().then(function () {
      if (typeof vega === 'undefined' || typeof vegaLite === 'undefined') throw new Error('Vega libraries did not load');
      var vg = vegaLite.compile(c.spec).spec;
      var view = new vega.View(vega.parse(vg), { renderer: 'svg', container: el, hover: true });
      return view.runAsync();
    }).then(function () {
      if (!el.querySelector('svg, canvas')) throw new Error('nothing was drawn');
      el.setAttribute('data-status', 'ok');
      report.rendered++;
    }, function (e) { fail(c.id, el, e); });
  });
  Promise.all(pending).then(function () { report.done = true; mirror(); document.body.setAttribute('data-conmig-done', 'true'); });
})();
`;

export interface ReportPageOptions {
  title: string;
  scenarioName: string;
  qosThresholdMs: number;
}

/** A page of charts: a title, a line under it, content before the charts (HTML), then the charts. */
export interface ChartPageOptions {
  title: string;
  subtitleHtml: string;
  bodyHtml: string;
}

/**
 * A self-contained page of Vega-Lite charts rendered in the browser (the run
 * report, a sweep's report): the page shell, the content, a section per chart,
 * the specs and the libraries inline (pure apart from the library text passed in).
 */
export function renderChartPage(page: ChartPageOptions, charts: readonly Chart[], libs: { vega: string; vegaLite: string }): string {
  const sections = charts
    .map(
      (c) =>
        `<section class="chart"><h2>${escapeHtml(c.title)}</h2>` +
        `<div class="chart-body" id="chart-${escapeHtml(c.id)}" data-chart-id="${escapeHtml(c.id)}" data-status="pending"></div></section>`,
    )
    .join('\n');
  const init = { charts: charts.length, rendered: 0, errors: [] as Array<{ id: string; message: string }>, done: false };
  return renderPage({
    title: page.title,
    subtitleHtml: page.subtitleHtml,
    headHtml: `<script>
window.__conmigReport = ${scriptJson(init)};
window.addEventListener('error', function (e) { window.__conmigReport.errors.push({ id: '(page)', message: String(e.message) }); });
</script>
`,
    bodyHtml: `${page.bodyHtml}
${sections}
<script id="conmig-charts" type="application/json">${scriptJson(charts.map((c) => ({ id: c.id, spec: { ...c.spec, title: undefined } })))}</script>
<script>${scriptText(libs.vega)}</script>
<script>${scriptText(libs.vegaLite)}</script>
<script>${RUNTIME}</script>`,
  });
}

/** Runs whose figures leave out many requests or migrations (analysis/health.ts), above the table. */
function warningsHtml(runs: readonly LabelledRun[]): string {
  return unfinishedWarningHtml(healthWarnings(runs));
}

/** The run report: warnings about unanswered requests and unfinished migrations, the summary table, then the charts. */
export function renderReportHtml(
  runs: readonly LabelledRun[],
  charts: readonly Chart[],
  opts: ReportPageOptions,
  libs: { vega: string; vegaLite: string },
): string {
  const head = SUMMARY_COLUMNS.map((c) => `<th${c.align === 'right' ? ' class="num"' : ''}>${escapeHtml(c.header)}</th>`).join('');
  const body = summaryTableRows(runs)
    .map(
      (r) =>
        `<tr>${SUMMARY_COLUMNS.map((c) => `<td${c.align === 'right' ? ' class="num"' : ''}>${escapeHtml(r[c.key])}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return renderChartPage(
    {
      title: opts.title,
      subtitleHtml: `Scenario <b>${escapeHtml(opts.scenarioName)}</b> · ${runs.length} run(s) · QoS threshold ${escapeHtml(String(opts.qosThresholdMs))} ms`,
      bodyHtml: `${warningsHtml(runs)}<table class="summary">
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table>`,
    },
    charts,
    libs,
  );
}
