/**
 * The one HTML page shell of every conmig page (the run report, the
 * comparison, the seeds summary): self-contained (nothing loaded from
 * elsewhere, so it opens offline), one style, a title and a heading.
 */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1000px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } .sub { color: #666; margin-top: 0; }
table.summary { border-collapse: collapse; margin: 1rem 0 2rem; font-variant-numeric: tabular-nums; }
table.summary th, table.summary td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; white-space: nowrap; text-align: left; vertical-align: top; }
table.summary th { background: #f5f5f5; } td.num, th.num { text-align: right; } table.wrap td { white-space: normal; }
.warning { border: 2px solid #c62828; background: #fdecea; color: #5f2120; padding: .5rem 1rem; margin: 1rem 0; } .warning ul { margin: .25rem 0; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
section.chart { margin: 1.5rem 0 2.5rem; } section.chart h2 { font-size: 1.05rem; }
.chart-body[data-status^="error"] { color: #b00; white-space: pre-wrap; }
`;

export interface PageOptions {
  /** The <title>; also the <h1> unless `heading` says otherwise (text, escaped here). */
  title: string;
  heading?: string;
  /** A line under the heading (HTML). */
  subtitleHtml?: string;
  /** Rules for this page only, after the common style. */
  style?: string;
  /** More of <head> (HTML), e.g. a script that must run first. */
  headHtml?: string;
  /** The page's content after the heading (HTML). */
  bodyHtml: string;
}

export function renderPage(o: PageOptions): string {
  const sub = o.subtitleHtml === undefined ? '' : `<p class="sub">${o.subtitleHtml}</p>\n`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="conmig">
<title>${escapeHtml(o.title)}</title>
<style>${STYLE}${o.style ?? ''}</style>
${o.headHtml ?? ''}</head>
<body>
<h1>${escapeHtml(o.heading ?? o.title)}</h1>
${sub}${o.bodyHtml}
</body>
</html>
`;
}

/** The warning box above a report's table when some figures leave out unanswered requests or unfinished migrations; '' for no lines. */
export function unfinishedWarningHtml(lines: readonly string[]): string {
  if (lines.length === 0) return '';
  return `<div class="warning" role="alert" id="unfinished-warning"><b>Not everything finished: the latencies describe only the served requests</b><ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul></div>\n`;
}
