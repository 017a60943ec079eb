/**
 * Opens the HTML report in a real headless Chromium and checks that every
 * chart rendered. Uses `chromium --headless --dump-dom` with a virtual-time
 * budget (the page settles before the DOM is printed); the page mirrors
 * window.__conmigReport into <html data-conmig-report> so the dump shows it.
 *
 * Needs Chromium (Debian: `apt-get install -y chromium`; or set
 * CONMIG_CHROMIUM to a binary). Skipped locally with a printed reason when
 * missing; fails when process.env.CI is set.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharts, loadChartLibraries, renderReportHtml, type LabelledRun } from '../../src/report/index.ts';
import { manyNodeRuns, twoPolicyRuns } from './fixtures.ts';

const run = promisify(execFile);

function findChromium(): string | undefined {
  const candidates = [
    process.env.CONMIG_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
  ];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

const chromium = findChromium();
if (!chromium) {
  if (process.env.CI) {
    throw new Error('browser.test.ts: Chromium not found (apt-get install -y chromium, or set CONMIG_CHROMIUM); required in CI');
  }
  console.log('SKIP browser.test.ts: no Chromium at /usr/bin/chromium (apt-get install -y chromium, or set CONMIG_CHROMIUM)');
}

/** report.html only: the SVGs writeReport also renders are not what the browser is checked on (report.test.ts renders them). */
async function writeReportPage(dir: string, runs: LabelledRun[], opts: { title: string; scenarioName: string; qosThresholdMs: number }): Promise<{ htmlPath: string }> {
  await mkdir(dir, { recursive: true });
  const htmlPath = join(dir, 'report.html');
  const charts = buildCharts(runs, { qosThresholdMs: opts.qosThresholdMs });
  await writeFile(htmlPath, renderReportHtml(runs, charts, opts, await loadChartLibraries()));
  return { htmlPath };
}

interface PageReport {
  charts: number;
  rendered: number;
  errors: Array<{ id: string; message: string }>;
  done: boolean;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

async function dumpDom(browser: string, htmlPath: string, profileDir: string): Promise<string> {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    `--user-data-dir=${profileDir}`,
    '--virtual-time-budget=30000',
    '--dump-dom',
    pathToFileURL(htmlPath).href,
  ];
  const { stdout } = await run(browser, args, { timeout: 90_000, maxBuffer: 64 << 20 });
  return stdout;
}

/** Each chart container: its id, status and whether an <svg>/<canvas> follows inside its section. */
function chartContainers(dom: string): Array<{ id: string; status: string; drawn: boolean }> {
  const out: Array<{ id: string; status: string; drawn: boolean }> = [];
  const re = /<div class="chart-body"([^>]*)>/g;
  for (let m = re.exec(dom); m; m = re.exec(dom)) {
    const attrs = m[1];
    const id = /data-chart-id="([^"]*)"/.exec(attrs)?.[1] ?? '?';
    const status = decodeEntities(/data-status="([^"]*)"/.exec(attrs)?.[1] ?? '');
    const end = dom.indexOf('</section>', m.index);
    const inner = dom.slice(m.index, end < 0 ? undefined : end);
    out.push({ id, status, drawn: /<svg[\s>]|<canvas[\s>]/.test(inner) });
  }
  return out;
}

describe.skipIf(!chromium)('report.html in headless Chromium', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'conmig-browser-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const cases = [
    { name: 'two policies, 3 nodes, per-user series', runs: twoPolicyRuns, charts: 6 },
    { name: 'many nodes (heatmap), no per-user series', runs: manyNodeRuns, charts: 5 },
  ];

  for (const c of cases) {
    it(`renders every chart: ${c.name}`, { timeout: 120_000 }, async () => {
      const dir = join(root, c.name.replace(/\W+/g, '-'));
      const { htmlPath } = await writeReportPage(dir, c.runs(), {
        title: 'Browser check',
        scenarioName: 'fixture-corridor',
        qosThresholdMs: 50,
      });
      const dom = await dumpDom(chromium as string, htmlPath, join(dir, 'profile'));
      const attr = /<html[^>]*\sdata-conmig-report="([^"]*)"/.exec(dom)?.[1];
      expect(attr, 'page never finished rendering (no data-conmig-report on <html>)').toBeDefined();
      const report = JSON.parse(decodeEntities(attr as string)) as PageReport;
      expect(report.errors).toEqual([]);
      expect(report).toEqual({ charts: c.charts, rendered: c.charts, errors: [], done: true });
      const containers = chartContainers(dom);
      expect(containers).toHaveLength(c.charts);
      for (const k of containers) {
        expect(k.status, k.id).toBe('ok');
        expect(k.drawn, `${k.id} has an <svg> or <canvas>`).toBe(true);
      }
      // The summary table made it too.
      expect(dom).toMatch(/<table class="summary">/);
    });
  }

  it('reports a chart that fails to render instead of hiding it', { timeout: 120_000 }, async () => {
    const runs = twoPolicyRuns();
    const dir = join(root, 'broken');
    const { htmlPath } = await writeReportPage(dir, runs, { title: 'Broken', scenarioName: 'x', qosThresholdMs: 50 });
    // Corrupt one spec inside the page: the page must mark that chart and carry on.
    const { readFile } = await import('node:fs/promises');
    const html = await readFile(htmlPath, 'utf8');
    const broken = html.replace('{"id":"latency-cdf","spec":{', '{"id":"latency-cdf","spec":{"mark":"nonsense"},"was":{');
    expect(broken).not.toBe(html);
    await writeFile(htmlPath, broken);
    const dom = await dumpDom(chromium as string, htmlPath, join(dir, 'profile'));
    const report = JSON.parse(decodeEntities(/<html[^>]*\sdata-conmig-report="([^"]*)"/.exec(dom)?.[1] ?? '{}')) as PageReport;
    expect(report.done).toBe(true);
    expect(report.rendered).toBe(5);
    expect(report.errors.map((e) => e.id)).toEqual(['latency-cdf']);
    const cdf = chartContainers(dom).find((k) => k.id === 'latency-cdf');
    expect(cdf?.status).toMatch(/^error: /);
  });
});
