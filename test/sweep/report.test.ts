/**
 * The sweep report: a chart per swept field and metric, one line per policy
 * with its confidence band, other fields as panels; and the page renders
 * every chart in a real headless Chromium (skipped locally with a printed
 * reason when there is none; required under CI=true). The runs are executed
 * in this process (executeRun, as a worker does) to keep the test fast.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { SEED_METRICS } from '../../src/analysis/seeds.ts';
import { collectSweep } from '../../src/sweep/collect.ts';
import { executeRun } from '../../src/sweep/execute.ts';
import { loadSweep } from '../../src/sweep/load.ts';
import { PLAN_FILE, type SweepPlan } from '../../src/sweep/plan.ts';
import { sweepCharts } from '../../src/report/sweep.ts';
import { aggregateCells, type FinishedRun } from '../../src/sweep/tables.ts';
import { readSummary } from '../../src/results/read.ts';
import { writeFileAtomic } from '../../src/results/write.ts';
import { sweepJsonSchemaText } from '../../src/sweep/schema.ts';
import { ROOT, sweepDir } from './helpers.ts';

const run = promisify(execFile);

/** Plan and run a sweep in this process; the folder as `conmig sweep` leaves it. */
async function sweepHere(yaml: string): Promise<{ out: string; plan: SweepPlan; finished: FinishedRun[] }> {
  const { dir, file } = sweepDir(yaml);
  const out = path.join(dir, 'out');
  const plan = await loadSweep(file);
  mkdirSync(out, { recursive: true });
  await writeFileAtomic(path.join(out, PLAN_FILE), JSON.stringify(plan));
  const finished: FinishedRun[] = [];
  for (const r of plan.runs) {
    const o = await executeRun(plan, r, out);
    if (o.status !== 'ok') throw new Error(o.failure.message);
    finished.push({ run: r, summary: await readSummary(path.join(out, 'runs', r.id, o.marker.dir)) });
  }
  return { out, plan, finished };
}

const TWO_FIELDS = `name: rep
description: report check
scenarios: [FIXTURES/small.yaml]
policies: [never, threshold]
seeds: 1..2
grid:
  qosThresholdMs: [50, 100]
  users[walker].mobility.speedMps: [[1, 2], [5, 15]]
`;

describe('sweep charts', () => {
  let swept: Awaited<ReturnType<typeof sweepHere>>;
  beforeAll(async () => {
    swept = await sweepHere(TWO_FIELDS);
  }, 300_000);

  it('one chart per swept field and metric; numbers on a numeric axis, ranges on an ordinal one in the file order', async () => {
    const charts = sweepCharts(swept.plan, aggregateCells(swept.plan, swept.finished));
    expect(charts.map((c) => c.id)).toEqual([...SEED_METRICS.map((m) => `p1-${m}`), ...SEED_METRICS.map((m) => `p2-${m}`)]);
    const spec = (id: string) => charts.find((c) => c.id === id)!.spec as unknown as {
      facet?: { field: string; sort: string[] };
      data: { values: { x: unknown; panel: string; policy: string; mean: number; lo: number; hi: number; n: number }[] };
      spec?: { layer: { mark: { type: string }; encoding: { x: { type: string; sort?: string[] }; color: { field: string } } }[] };
    };
    const q = spec('p1-p95Ms');
    expect(q.spec!.layer.map((l) => l.mark.type)).toEqual(['errorband', 'line']);
    expect(q.spec!.layer[1].encoding.x.type).toBe('quantitative');
    expect(q.spec!.layer[1].encoding.color.field).toBe('policy');
    // The other field is not averaged over: one panel per speed range.
    expect(q.facet).toMatchObject({ field: 'panel', sort: ['users[walker].mobility.speedMps = [1,2]', 'users[walker].mobility.speedMps = [5,15]'] });
    expect(q.data.values).toHaveLength(4 * 2);
    for (const d of q.data.values) {
      expect(d.n).toBe(2);
      expect(d.lo).toBeLessThanOrEqual(d.mean);
      expect(d.hi).toBeGreaterThanOrEqual(d.mean);
    }
    const o = spec('p2-migrations');
    expect(o.spec!.layer[1].encoding.x).toMatchObject({ type: 'ordinal', sort: ['[1,2]', '[5,15]'] });
    // The never policy never migrates: its line is 0 with no spread.
    for (const d of o.data.values.filter((v) => v.policy === 'never')) expect([d.mean, d.lo, d.hi]).toEqual([0, 0, 0]);
  });

  it('collect writes the page, and with svg one SVG per chart', async () => {
    const c = await collectSweep(swept.out, { svg: true });
    expect(c.counts).toEqual({ total: 16, done: 16, failed: 0, pending: 0 });
    expect(readdirSync(path.join(swept.out, 'charts')).sort()).toEqual([...SEED_METRICS.map((m) => `p1-${m}.svg`), ...SEED_METRICS.map((m) => `p2-${m}.svg`)].sort());
    const html = readFileSync(c.files.report, 'utf8');
    expect(html).toContain('<h1>rep: report check</h1>');
    expect(html).toContain('16 of 16 run(s) finished');
    expect((html.match(/<section class="chart">/g) ?? []).length).toBe(14);
    // Without svg the folder holds no stale SVGs.
    await collectSweep(swept.out);
    expect(existsSync(path.join(swept.out, 'charts'))).toBe(false);
    expect(readFileSync(c.files.report, 'utf8')).toBe(html);
  });
});

it('without swept fields: each metric per policy', async () => {
  const s = await sweepHere('name: plain\nscenarios: [FIXTURES/small.yaml]\nseeds: 1..2\n');
  const charts = sweepCharts(s.plan, aggregateCells(s.plan, s.finished));
  expect(charts.map((c) => c.id)).toEqual(SEED_METRICS.map((m) => `policy-${m}`));
}, 120_000);

it('scenarios/sweep.schema.json is up to date with the zod schema (run `npm run schema`)', async () => {
  expect(readFileSync(path.join(ROOT, 'scenarios/sweep.schema.json'), 'utf8')).toBe(sweepJsonSchemaText());
});

function findChromium(): string | undefined {
  return [process.env.CONMIG_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p): p is string => !!p && existsSync(p));
}
const chromium = findChromium();
if (!chromium) {
  if (process.env.CI) throw new Error('report.test.ts: Chromium not found (apt-get install -y chromium, or set CONMIG_CHROMIUM); required in CI');
  console.log('[report.test.ts] skipping the browser check: no Chromium (apt-get install -y chromium, or set CONMIG_CHROMIUM)');
}

const decode = (s: string): string => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe.skipIf(!chromium)('the sweep report in headless Chromium', () => {
  it('renders every chart', async () => {
    const s = await sweepHere(TWO_FIELDS.replace('name: rep', 'name: browser'));
    const c = await collectSweep(s.out);
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${path.join(s.out, 'profile')}`, '--virtual-time-budget=30000', '--dump-dom', pathToFileURL(c.files.report).href];
    const { stdout } = await run(chromium as string, args, { timeout: 120_000, maxBuffer: 64 << 20 });
    const attr = /<html[^>]*\sdata-conmig-report="([^"]*)"/.exec(stdout)?.[1];
    expect(attr, 'the page never finished rendering').toBeDefined();
    expect(JSON.parse(decode(attr!))).toEqual({ charts: 14, rendered: 14, errors: [], done: true });
    const statuses = [...stdout.matchAll(/<div class="chart-body"[^>]*data-status="([^"]*)"/g)].map((m) => m[1]);
    expect(statuses).toEqual(Array(14).fill('ok'));
  }, 300_000);
});
