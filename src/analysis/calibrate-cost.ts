/** Calibrating the migration cost model and the access latency from live runs' records. */
import { mean } from 'simple-statistics';
import { ConmigError } from '../model/errors.ts';
import { BackhaulGraph, distanceKm, LatencyModel } from '../model/latency.ts';
import { BYTES_PER_MIB, mibToMegabits } from '../model/units.ts';
import type { MigrationRecord, RequestRecord, RunData } from '../model/results.ts';
import type { MigrationCostParams, MigrationMode, Scenario } from '../model/types.ts';

import type { CalibrationResult, FitRecord } from './calibrate-types.ts';
import { DISTANCE_AXIS, fitBasePerMiB, fitEfficiency, fitTransfer, residualSummary, rmseOf } from './calibrate-fits.ts';

// ---------------------------------------------------------------------------
// Migration cost
// ---------------------------------------------------------------------------

export interface Observation {
  rec: MigrationRecord;
  memoryMiB: number;
  imageMiB: number;
  pathLatencyMs: number;
  bandwidthMbps: number;
}

export function observations(runs: readonly RunData[], scenario: Scenario): Observation[] {
  const graph = new BackhaulGraph(scenario.topology);
  const memory = new Map(scenario.containers.map((c) => [c.id, c.memoryMiB]));
  const image = new Map(scenario.containers.map((c) => [c.id, c.imageMiB]));
  const out: Observation[] = [];
  runs.forEach((run) => {
    for (const rec of run.migrations) {
      if (rec.status !== 'ok') continue;
      const memoryMiB = memory.get(rec.containerId);
      if (memoryMiB === undefined) {
        throw new ConmigError('RESULT_MISMATCH', `migration ${rec.id} moved container "${rec.containerId}", which the scenario does not define`, {
          context: { container: rec.containerId, scenario: scenario.file || scenario.name },
        });
      }
      if (!graph.has(rec.from) || !graph.has(rec.to)) {
        throw new ConmigError('RESULT_MISMATCH', `migration ${rec.id} goes ${rec.from} -> ${rec.to}, not nodes of the scenario's topology`, {
          context: { from: rec.from, to: rec.to, scenario: scenario.file || scenario.name },
        });
      }
      out.push({ rec, memoryMiB, imageMiB: image.get(rec.containerId) ?? 0, pathLatencyMs: graph.latencyMs(rec.from, rec.to), bandwidthMbps: graph.bottleneckMbps(rec.from, rec.to) });
    }
  });
  return out;
}

function idealTransferMs(bytes: number, bandwidthMbps: number): number {
  return (mibToMegabits(bytes / BYTES_PER_MIB) / bandwidthMbps) * 1000;
}

export function fitMigrationCost(
  obs: readonly Observation[],
  prior: MigrationCostParams,
): { params: CalibrationResult['params']; fit: FitRecord[] } {
  const params: CalibrationResult['params'] = {};
  const fit: FitRecord[] = [];
  const modes: MigrationMode[] = ['cold', 'precopy', 'postcopy'];
  for (const mode of modes) {
    let o = obs.filter((x) => x.rec.mode === mode);
    if (o.length === 0) continue;
    const p: Partial<MigrationCostParams> = {};
    const transferable = (x: Observation): boolean => Number.isFinite(x.bandwidthMbps) && x.bandwidthMbps > 0;
    if (mode === 'cold') {
      // In the model a cold migration's downtime IS checkpoint + transfer + restore. A live record's
      // phases are wall times of whole commands (SSH session, runc and CRIU start-up before the
      // freeze, runc returning after the restored process already answers), and its downtime is
      // what clients saw (probed): smaller. Fitted on the raw phases, the simulated downtime would
      // be the phase sum (25-35% too long on the local testbed). So each record's phases are
      // scaled by its downtime share, downtime / (checkpoint + transfer + restore), when < 1:
      // the calibrated phases are the parts of each phase that were downtime (assumed proportional).
      const phaseSum = (x: Observation): number => x.rec.checkpointMs + x.rec.transferMs + x.rec.restoreMs;
      const shareOf = (x: Observation): number => {
        const r = x.rec.downtimeMs / phaseSum(x);
        return Number.isFinite(r) && r > 0 && r < 1 ? r : 1;
      };
      const shares = o.map(shareOf);
      if (shares.some((r) => r < 1)) {
        const dev = o.map((x, i) => x.rec.downtimeMs - shares[i] * phaseSum(x));
        fit.push({
          group: 'cold downtime share of the phases',
          method: 'per record: downtimeMs / (checkpointMs + transferMs + restoreMs), capped at 1; the phases below are fitted scaled by it',
          n: o.length,
          r2: NaN,
          rmse: rmseOf(dev),
          residuals: residualSummary(dev),
          note: `share mean ${mean(shares).toFixed(3)}, min ${Math.min(...shares).toFixed(3)}, max ${Math.max(...shares).toFixed(3)} (the live phases include command overhead outside the client-seen downtime)`,
        });
        o = o.map((x, i) => ({
          ...x,
          rec: { ...x.rec, checkpointMs: x.rec.checkpointMs * shares[i], transferMs: x.rec.transferMs * shares[i], restoreMs: x.rec.restoreMs * shares[i] },
        }));
      }
      const mem = o.map((x) => x.memoryMiB);
      const cp = fitBasePerMiB('cold checkpoint', mem, o.map((x) => x.rec.checkpointMs), prior.checkpointMsPerMiB);
      const rs = fitBasePerMiB('cold restore', mem, o.map((x) => x.rec.restoreMs), prior.restoreMsPerMiB);
      Object.assign(p, { checkpointBaseMs: cp.base, checkpointMsPerMiB: cp.perMiB, restoreBaseMs: rs.base, restoreMsPerMiB: rs.perMiB });
      fit.push(cp.record, rs.record);
      const t = o.filter((x) => transferable(x) && x.rec.bytes > 0 && x.rec.transferMs > 2 * x.pathLatencyMs);
      if (t.length > 0) {
        // The simulator sends M (+ the image unless cached), whatever a real checkpoint weighed:
        // eta is fitted on the bytes the model will send, so that the calibrated model
        // reproduces the measured transfer TIME. (Fitted on the recorded bytes instead, a
        // 1 MiB checkpoint taking 0.7 s gives eta ~ 0.01, and the simulator then sends the
        // model's 124 MiB at that rate: a 100x too long transfer.)
        const modelBytes = (x: Observation): number => (x.memoryMiB + (prior.imageCached ? 0 : x.imageMiB)) * BYTES_PER_MIB;
        const e = fitTransfer(
          'cold transfer efficiency',
          t.map((x) => idealTransferMs(modelBytes(x), x.bandwidthMbps)),
          t.map((x) => x.rec.transferMs - 2 * x.pathLatencyMs),
          prior.transferEfficiency,
        );
        p.transferBaseMs = e.baseMs;
        const measuredMiB = mean(t.map((x) => x.rec.bytes / BYTES_PER_MIB));
        const modelMiB = mean(t.map((x) => modelBytes(x) / BYTES_PER_MIB));
        const notes = [e.record.note];
        if (measuredMiB < modelMiB / 2 || measuredMiB > modelMiB * 2) {
          notes.push(
            `fitted on the model's transfer size (${modelMiB.toFixed(1)} MiB: memoryMiB${prior.imageCached ? '' : ' + imageMiB'}), ` +
              `not the measured one (mean ${measuredMiB.toFixed(2)} MiB): eta and transferBaseMs absorb the difference`,
          );
        }
        p.transferEfficiency = e.efficiency;
        if (e.efficiency > 1) {
          // A scenario's transferEfficiency is in (0, 1]: a calibrated file must stay runnable.
          p.transferEfficiency = 1;
          notes.push(
            `eta capped at 1 (fitted ${e.efficiency.toPrecision(3)}): the model's ${modelMiB.toFixed(1)} MiB cannot cross the link as fast as the measured transfers; ` +
              `the simulated transfer stays too long: is memoryMiB (${prior.imageCached ? '' : 'or imageMiB '}of the scenario) larger than what a migration moves?`,
          );
        }
        fit.push({ ...e.record, ...(notes.some(Boolean) ? { note: notes.filter(Boolean).join('; ') } : {}) });
      }
    } else if (mode === 'precopy') {
      const rs = fitBasePerMiB('precopy restore', o.map((x) => x.memoryMiB), o.map((x) => x.rec.restoreMs), prior.restoreMsPerMiB);
      Object.assign(p, { restoreBaseMs: rs.base, restoreMsPerMiB: rs.perMiB });
      fit.push({ ...rs.record, note: [rs.record.note, 'checkpoint and transfer act on the unobserved final dirty set: not fitted'].filter(Boolean).join('; ') });
    } else {
      const s = prior.postcopyStateMiB;
      const sizes = o.map(() => s);
      const cp = fitBasePerMiB('postcopy checkpoint', sizes, o.map((x) => x.rec.checkpointMs), prior.checkpointMsPerMiB);
      const rs = fitBasePerMiB('postcopy restore', sizes, o.map((x) => x.rec.restoreMs), prior.restoreMsPerMiB);
      Object.assign(p, { checkpointBaseMs: cp.base, restoreBaseMs: rs.base });
      fit.push(cp.record, rs.record);
      const t = o.filter((x) => transferable(x) && x.rec.lazyPagesMs > 2 * x.pathLatencyMs);
      if (t.length > 0) {
        const e = fitEfficiency(
          'postcopy transfer efficiency (lazy pages)',
          t.map((x) => idealTransferMs(x.memoryMiB * BYTES_PER_MIB, x.bandwidthMbps)),
          t.map((x) => x.rec.lazyPagesMs - 2 * x.pathLatencyMs),
        );
        p.transferEfficiency = e.efficiency;
        fit.push(e.record);
      }
    }
    params[mode] = p;
  }
  return { params, fit };
}

// ---------------------------------------------------------------------------
// Access latency
// ---------------------------------------------------------------------------

/**
 * A function turning a served request of a static user into (distance to its
 * access point in km, one-way access latency in ms); null for requests that
 * cannot be used (failed, moving or unknown user, linear latency model, no APs).
 */
export function accessObservation(scenario: Scenario): (r: RequestRecord) => { distanceKm: number; accessMs: number } | null {
  if (scenario.latency.kind !== 'geometric' || scenario.topology.accessPoints.length === 0) return () => null;
  const model = new LatencyModel(scenario.latency, scenario.topology);
  const aps = scenario.topology.accessPoints;
  const users = new Map<string, { ap: number; distanceKm: number; payloadKiB: number }>();
  for (const u of scenario.users) {
    if (u.mobility.kind !== 'static') continue;
    let best = 0;
    aps.forEach((ap, i) => {
      if (distanceKm(u.start, ap.position) < distanceKm(u.start, aps[best].position)) best = i;
    });
    users.set(u.id, { ap: best, distanceKm: distanceKm(u.start, aps[best].position), payloadKiB: u.requests.requestKiB + u.requests.responseKiB });
  }
  const nodes = new Set(scenario.topology.nodes.map((n) => n.id));
  return (r) => {
    const u = users.get(r.userId);
    if (!u || r.status !== 'served' || !nodes.has(r.nodeId)) return null;
    const rest = r.networkMs - model.backhaulRttMsAt(u.ap, model.nodeIndex(r.nodeId), u.payloadKiB);
    return { distanceKm: u.distanceKm, accessMs: rest / 2 };
  };
}

export function fitAccess(
  obs: ReadonlyArray<{ distanceKm: number; accessMs: number }>,
  scenario: Scenario,
): { accessLatency: { accessBaseMs: number; accessMsPerKm: number }; record: FitRecord } | null {
  if (scenario.latency.kind !== 'geometric' || obs.length === 0) return null;
  const f = fitBasePerMiB(
    'access latency',
    obs.map((o) => o.distanceKm),
    obs.map((o) => o.accessMs),
    scenario.latency.accessMsPerKm,
    DISTANCE_AXIS,
  );
  return { accessLatency: { accessBaseMs: f.base, accessMsPerKm: f.perMiB }, record: f.record };
}
