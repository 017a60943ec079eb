/**
 * `conmig sweep collect DIR`, also the last step of a local sweep: merge
 * whatever runs are finished in the folder into results.csv, cells.csv,
 * failed.csv and report.html (and with --svg each chart as charts/*.svg). Everything is derived from
 * the run folders in plan order, and nothing from the clock or the folder's
 * path, so a sweep run locally with any --jobs, or on Slurm, or resumed after
 * a crash, merges to the same bytes.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadChartLibraries, renderChartPage, renderSvg } from '../report/index.ts';
import { escapeHtml } from '../report/index.ts';
import { readSummary, writeFileAtomic } from '../results/index.ts';
import { readPlan } from './execute.ts';
import type { RunFailure } from './plan.ts';
import { cellsTableHtml, sweepCharts } from '../report/sweep.ts';
import { countStates, runStates, type StateCounts } from './state.ts';
import { aggregateCells, cellsCsv, failedCsv, resultsCsv, type FinishedRun } from './tables.ts';

export const MERGED_FILES = { results: 'results.csv', cells: 'cells.csv', failed: 'failed.csv', report: 'report.html', charts: 'charts' } as const;

export interface CollectResult {
  counts: StateCounts;
  failures: RunFailure[];
  /** Absolute paths of what was written. */
  files: { results: string; cells: string; failed: string; report: string };
}

export interface CollectOptions {
  /** Also write each chart as charts/<id>.svg (about 0.2 s a chart here; the page does not need them). */
  svg?: boolean;
}

export async function collectSweep(outDir: string, opts: CollectOptions = {}): Promise<CollectResult> {
  const plan = await readPlan(outDir);
  const states = await runStates(plan, outDir);
  const finished: FinishedRun[] = [];
  const failures: RunFailure[] = [];
  for (let i = 0; i < states.length; i++) {
    const s = states[i];
    if (s.state === 'done') finished.push({ run: plan.runs[i], summary: await readSummary(s.summaryDir) });
    else if (s.state === 'failed') failures.push(s.failure);
  }
  const counts = countStates(states);
  const cells = aggregateCells(plan, finished);
  const files = {
    results: path.join(outDir, MERGED_FILES.results),
    cells: path.join(outDir, MERGED_FILES.cells),
    failed: path.join(outDir, MERGED_FILES.failed),
    report: path.join(outDir, MERGED_FILES.report),
  };
  await writeFileAtomic(files.results, resultsCsv(plan, finished));
  await writeFileAtomic(files.cells, cellsCsv(plan, cells));
  await writeFileAtomic(files.failed, failedCsv(plan, failures));

  const charts = sweepCharts(plan, cells);
  const chartDir = path.join(outDir, MERGED_FILES.charts);
  // SVGs of an earlier collect (another field, another metric, or no --svg now) would otherwise linger.
  await rm(chartDir, { recursive: true, force: true });
  if (opts.svg) {
    await mkdir(chartDir, { recursive: true });
    for (const c of charts) await writeFileAtomic(path.join(chartDir, `${c.id}.svg`), await renderSvg(c.spec));
  }
  const title = plan.description ? `${plan.name}: ${plan.description}` : `sweep ${plan.name}`;
  const cellCount = new Set(plan.runs.map((r) => r.cell)).size;
  const subtitle =
    `Sweep <b>${escapeHtml(plan.name)}</b> · ${plan.scenarios.map((s) => escapeHtml(s.name)).join(', ')} · ${cellCount} cell(s) · ` +
    `${counts.done} of ${counts.total} run(s) finished${counts.failed > 0 ? `, ${counts.failed} failed (failed.csv)` : ''}${counts.pending > 0 ? `, ${counts.pending} not run yet` : ''}`;
  const body =
    cells.length > 0
      ? cellsTableHtml(plan, cells)
      : '<p>No run has finished yet.</p>';
  await writeFileAtomic(files.report, renderChartPage({ title, subtitleHtml: subtitle, bodyHtml: body }, charts, await loadChartLibraries()));
  return { counts, failures, files };
}
