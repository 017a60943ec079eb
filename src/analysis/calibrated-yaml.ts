/**
 * Write a calibration into the original scenario YAML (pure: text in, text out).
 * The yaml Document API keeps the original's comments, key order and style;
 * only migration.cost keys (and serviceTime / latency where fitted) change,
 * and a comment block describing the fit goes on top.
 */
import { parseDocument, isSeq, isMap } from 'yaml';
import { ConmigError } from '../model/errors.ts';
import type { Scenario } from '../model/types.ts';
import { mergedCost, type CalibrationResult } from './calibrate.ts';

function sig(x: number, digits = 4): number {
  return Number(x.toPrecision(digits));
}

function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? String(sig(x, digits)) : '-';
}

function pctOf(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-';
}

/** The comment block: one line per fit, then the held-out errors. */
export function calibrationComment(result: CalibrationResult, sources: readonly string[]): string {
  const lines = [
    ` Calibrated by conmig calibrate from ${sources.length} live run(s)${result.heldOut ? ` (fitted on ${result.trainedOn.length}, ${result.heldOut.length} held out)` : ''}:`,
    ...sources.map((s, i) => `   ${result.trainedOn.includes(i) ? 'fit ' : 'held'} ${s}`),
    ' Fits (n, R^2, RMSE ms, residual mean/sd/max|.| ms):',
  ];
  for (const f of result.fit) {
    lines.push(
      `   ${f.group}: ${f.method}; n=${f.n}, R^2=${fmt(f.r2, 3)}, RMSE=${fmt(f.rmse, 3)}, residuals ${fmt(f.residuals.meanMs, 3)}/${fmt(f.residuals.sdMs, 3)}/${fmt(f.residuals.maxAbsMs, 3)}`,
    );
    if (f.note) lines.push(`     note: ${f.note}`);
  }
  if (result.heldOut) {
    lines.push(' Held-out check (simulated vs measured, relative error):');
    for (const h of result.heldOut) {
      lines.push(
        `   seed ${h.seed}${h.dir ? ` (${h.dir})` : ''}: p50 ${pctOf(h.p50Rel)}, p95 ${pctOf(h.p95Rel)}, mean downtime ${pctOf(h.downtimeMeanRel)}, ` +
          `paired downtime mean |err| ${pctOf(h.downtimePairedMeanAbsRel)} over ${h.pairedMigrations}`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * The original scenario text with the calibration applied. `scenario` is the
 * resolved scenario of that text (for the mode and the prior constants).
 */
export function calibratedYaml(originalText: string, scenario: Scenario, result: CalibrationResult, sources: readonly string[]): string {
  const doc = parseDocument(originalText);
  if (doc.errors.length > 0) {
    throw new ConmigError('SCENARIO_INVALID', `cannot parse the scenario YAML: ${doc.errors[0].message}`, {
      context: { file: scenario.file },
    });
  }
  const cost = mergedCost(scenario, result.params);
  const fitted = new Set(Object.values(result.params).flatMap((p) => Object.keys(p ?? {})));
  for (const key of Object.keys(cost) as Array<keyof typeof cost>) {
    if (!fitted.has(key)) continue;
    const v = cost[key];
    doc.setIn(['migration', 'cost', key], typeof v === 'number' ? sig(v) : v);
  }
  const notes: string[] = [];
  // A calibrated scenario is for the simulator: a live scenario's copy would otherwise run live
  // again. The scenario hash leaves out mode and live, so it still compares with the live runs.
  if (scenario.mode === 'live' || doc.get('mode') === 'live') {
    doc.set('mode', 'sim');
    notes.push(' mode: sim (was live): the calibrated scenario is simulated; its live section is kept for reference');
  }
  if (result.serviceTime) {
    const containers = doc.get('containers');
    if (isSeq(containers)) {
      containers.items.forEach((_item, i) => {
        const node = doc.createNode(result.serviceTime);
        if (result.serviceTime?.kind === 'empirical' && isMap(node)) {
          const samples = node.get('samplesMs', true);
          if (isSeq(samples)) samples.flow = true;
        }
        doc.setIn(['containers', i, 'serviceTime'], node);
      });
    } else {
      notes.push(' serviceTime was fitted but the file has no containers list to put it in');
    }
  }
  if (result.accessLatency) {
    if (scenario.latency.kind === 'geometric') {
      doc.setIn(['latency', 'kind'], 'geometric');
      doc.setIn(['latency', 'accessBaseMs'], sig(result.accessLatency.accessBaseMs));
      doc.setIn(['latency', 'accessMsPerKm'], sig(result.accessLatency.accessMsPerKm));
    } else {
      notes.push(' access latency was fitted but the scenario uses the linear latency model: not applied');
    }
  }
  const comment = [calibrationComment(result, sources), ...notes].join('\n');
  doc.commentBefore = doc.commentBefore ? `${comment}\n\n${doc.commentBefore}` : comment;
  return doc.toString({ lineWidth: 0 });
}
