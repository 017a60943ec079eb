/** Calibrating the migration cost model and the access latency from live runs' records. */
import { mean } from 'simple-statistics';
import { ConmigError } from '../model/errors.ts';
import { BackhaulGraph, distanceKm, LatencyModel } from '../model/latency.ts';
import { checkpointMs, streamMs, transferMs, transferSetupMs } from '../model/migration-cost.ts';
import { BYTES_PER_MIB, mibToMegabits } from '../model/units.ts';
import type { MigrationRecord, RequestRecord, RunData } from '../model/results.ts';
import type { MigrationCostParams, MigrationMode, Scenario } from '../model/types.ts';

import type { CalibrationResult, FitRecord, LazyServiceSamples } from './calibrate-types.ts';
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
  let coldLink = false; // eta and transferBaseMs both identified by cold transfers
  for (const mode of modes) {
    const o = obs.filter((x) => x.rec.mode === mode);
    if (o.length === 0) continue;
    const p: Partial<MigrationCostParams> = {};
    if (mode === 'cold') {
      coldLink = fitCold(o, prior, p, fit);
    } else if (mode === 'precopy') {
      const rs = fitBasePerMiB('precopy restore', o.map((x) => x.memoryMiB), o.map((x) => x.rec.restoreMs), prior.restoreMsPerMiB);
      Object.assign(p, { restoreBaseMs: rs.base, restoreMsPerMiB: rs.perMiB });
      fit.push({ ...rs.record, note: [rs.record.note, 'checkpoint and transfer act on the unobserved final dirty set: not fitted'].filter(Boolean).join('; ') });
    } else {
      fitPostcopy(o, prior, params.cold ?? {}, coldLink, p, fit);
    }
    params[mode] = p;
  }
  return { params, fit };
}

const transferable = (x: Observation): boolean => Number.isFinite(x.bandwidthMbps) && x.bandwidthMbps > 0;
const isStreamed = (x: Observation): boolean => x.rec.transport === 'stream';
/** A streamed record's transfer ended visibly after its dump (> 5% and 1 ms later): the link, not the dump, set the pace. */
const hasTail = (x: Observation): boolean => x.rec.transferMs > x.rec.checkpointMs * 1.05 + 1;

/**
 * In the model a cold migration's downtime IS its phases: checkpoint + transfer + restore
 * (disk), max(checkpoint, transfer) + restore (streamed: the transfer runs alongside the dump,
 * both from the freeze), and the same sum for post-copy's stop, plus a restore stall that
 * happens to some migrations (restoreStallProbability, restoreStallMs). A live record's
 * phases are wall times of whole commands (SSH session, runc and CRIU start-up before the
 * freeze, runc returning after the restored process already answers), and its downtime is
 * what clients saw (probed): usually smaller. Fitted on the raw phases, the simulated
 * downtime would be the phase span (25-35% too long on the local testbed). So each record's
 * phases are scaled by its downtime share, downtime / span, when < 1: the calibrated phases
 * are the parts of each phase that were downtime (assumed proportional).
 *
 * A record whose clients saw MORE downtime than its phases span (share > 1) had downtime
 * that no phase covers: on the testbed, a restored container that answered its first health
 * check 3.5-4.5 s after `runc restore` returned (about 1 migration in 20). Capping its share
 * at 1 lost that downtime (the fit under-estimated its own training runs' mean downtime by
 * 292 ms); spreading it over every migration's phases would make each downtime longer and
 * none of them the multi-second stall clients saw. So it is modelled as what it is: such a
 * record's phases are scaled by the mean share of the other records (its phases are like
 * theirs), its excess over that is a stall, restoreStallProbability = the fraction of such
 * records and restoreStallMs = their mean excess. The model's mean downtime is then the
 * records' mean downtime.
 */
function scaleByDowntimeShare(
  o: readonly Observation[],
  group: string,
  fit: FitRecord[],
): { obs: Observation[]; stall?: { probability: number; ms: number } } {
  const span = (x: Observation): number =>
    isStreamed(x) ? Math.max(x.rec.checkpointMs, x.rec.transferMs) + x.rec.restoreMs : x.rec.checkpointMs + x.rec.transferMs + x.rec.restoreMs;
  const ratioOf = (x: Observation): number => {
    const r = x.rec.downtimeMs / span(x);
    return Number.isFinite(r) && r > 0 ? r : 1;
  };
  const ratios = o.map(ratioOf);
  if (!ratios.some((r) => r !== 1)) return { obs: [...o] };
  const stalled = ratios.map((r) => r > 1);
  const others = ratios.filter((r) => r <= 1);
  const typical = others.length > 0 ? mean(others) : 1;
  const shares = ratios.map((r, i) => (stalled[i] ? typical : r));
  const excess = o.map((x, i) => (stalled[i] ? x.rec.downtimeMs - typical * span(x) : 0));
  const nStalled = stalled.filter(Boolean).length;
  const stall = nStalled > 0 ? { probability: nStalled / o.length, ms: excess.reduce((a, b) => a + b, 0) / nStalled } : undefined;
  const dev = o.map((x, i) => x.rec.downtimeMs - shares[i] * span(x) - (stall?.probability ?? 0) * (stall?.ms ?? 0));
  const streamed = o.some(isStreamed);
  fit.push({
    group,
    method:
      'per record: downtimeMs / (checkpointMs + transferMs + restoreMs)' +
      (streamed ? ' (streamed cold: / (max(checkpointMs, transferMs) + restoreMs))' : '') +
      '; the phases below are fitted scaled by it; a record above 1 (downtime no phase covers) is scaled by the others\' mean share and its excess is a restore stall',
    n: o.length,
    r2: NaN,
    rmse: rmseOf(dev),
    residuals: residualSummary(dev),
    note:
      `share mean ${mean(shares).toFixed(3)}, min ${Math.min(...shares).toFixed(3)}, max ${Math.max(...shares).toFixed(3)} (the live phases include command overhead outside the client-seen downtime)` +
      (stall
        ? `; ${nStalled} of ${o.length} records saw more downtime than their phases span (up to ${Math.max(...ratios).toFixed(2)}x): ` +
          `restoreStallProbability ${stall.probability.toPrecision(3)}, restoreStallMs ${stall.ms.toPrecision(4)} (their mean excess over ${typical.toFixed(3)} of their phases)`
        : ''),
  });
  return {
    obs: o.map((x, i) => ({
      ...x,
      rec: { ...x.rec, checkpointMs: x.rec.checkpointMs * shares[i], transferMs: x.rec.transferMs * shares[i], restoreMs: x.rec.restoreMs * shares[i] },
    })),
    ...(stall ? { stall } : {}),
  };
}

/** A scenario's transferEfficiency (and lazyPagesEfficiency) is in (0, 1]: a calibrated file must stay runnable. */
function capEfficiency(fitted: number, what: string, notes: string[]): number {
  if (fitted <= 1) return fitted;
  notes.push(`${what} capped at 1 (fitted ${fitted.toPrecision(3)})`);
  return 1;
}

/**
 * Cold, disk and streamed (disk-less, `transport: stream`):
 *   checkpoint ~ base + perMiB * M from the disk records when there are any (a streamed dump
 *     waits on a link slower than itself, so its time is the dump's only when it has a tail),
 *     else from the streamed ones; restore ~ base + perMiB * M from all;
 *   transfer: disk records: transferMs - 2l = B + megabits(M [+ image]) / (eta W) -> B, eta;
 *     without disk records, streamed records with a tail (transferMs visibly > checkpointMs:
 *     link-limited) give the same line for megabits(M) (its base is max(B, checkpointBaseMs - 2l));
 *     streamed records without a tail only bound eta from below (the link kept pace with the
 *     dump): eta is raised to that bound if it is below;
 *   coldTransport: stream when at least half of the cold records were streamed;
 *   the overlap: the model's stream(M) against each streamed record's max(checkpoint, transfer).
 */
function fitCold(all: readonly Observation[], prior: MigrationCostParams, p: Partial<MigrationCostParams>, fit: FitRecord[]): boolean {
  const scaled = scaleByDowntimeShare(all, 'cold downtime share of the phases', fit);
  const o = scaled.obs;
  if (scaled.stall) Object.assign(p, { restoreStallProbability: scaled.stall.probability, restoreStallMs: scaled.stall.ms });
  const disk = o.filter((x) => !isStreamed(x));
  const stream = o.filter(isStreamed);
  const cpFrom = disk.length > 0 ? disk : stream;
  const cp = fitBasePerMiB('cold checkpoint', cpFrom.map((x) => x.memoryMiB), cpFrom.map((x) => x.rec.checkpointMs), prior.checkpointMsPerMiB);
  const rs = fitBasePerMiB('cold restore', o.map((x) => x.memoryMiB), o.map((x) => x.rec.restoreMs), prior.restoreMsPerMiB);
  Object.assign(p, { checkpointBaseMs: cp.base, checkpointMsPerMiB: cp.perMiB, restoreBaseMs: rs.base, restoreMsPerMiB: rs.perMiB });
  const cpNote =
    stream.length === 0 ? undefined
    : disk.length > 0 ? `fitted on the ${disk.length} disk records only (a streamed dump waits on a slower link)`
    : 'fitted on streamed dumps: one that waited on a slower link looks slower here (its record then has no transfer tail); ' +
      'disk records, or streamed ones at the bandwidth to be simulated, pin the dump itself';
  fit.push({ ...cp.record, ...(cpNote ? { note: [cp.record.note, cpNote].filter(Boolean).join('; ') } : {}) }, rs.record);

  let linkIdentified = false;
  const t = disk.filter((x) => transferable(x) && x.rec.bytes > 0 && x.rec.transferMs > 2 * x.pathLatencyMs);
  const tails = stream.filter((x) => transferable(x) && hasTail(x) && x.rec.transferMs > 2 * x.pathLatencyMs);
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
    linkIdentified = !e.record.method.startsWith('transferBaseMs only');
    const measuredMiB = mean(t.map((x) => x.rec.bytes / BYTES_PER_MIB));
    const modelMiB = mean(t.map((x) => modelBytes(x) / BYTES_PER_MIB));
    const notes = [e.record.note ?? ''];
    if (measuredMiB < modelMiB / 2 || measuredMiB > modelMiB * 2) {
      notes.push(
        `fitted on the model's transfer size (${modelMiB.toFixed(1)} MiB: memoryMiB${prior.imageCached ? '' : ' + imageMiB'}), ` +
          `not the measured one (mean ${measuredMiB.toFixed(2)} MiB): eta and transferBaseMs absorb the difference`,
      );
    }
    p.transferEfficiency = e.efficiency;
    if (e.efficiency > 1) {
      p.transferEfficiency = 1;
      notes.push(
        `eta capped at 1 (fitted ${e.efficiency.toPrecision(3)}): the model's ${modelMiB.toFixed(1)} MiB cannot cross the link as fast as the measured transfers; ` +
          `the simulated transfer stays too long: is memoryMiB (${prior.imageCached ? '' : 'or imageMiB '}of the scenario) larger than what a migration moves?`,
      );
    }
    if (stream.length > 0) notes.push(`from the ${t.length} disk transfers; the ${stream.length} streamed ones are checked below (cold stream overlap)`);
    fit.push({ ...e.record, ...(notes.some(Boolean) ? { note: notes.filter(Boolean).join('; ') } : {}) });
  } else if (tails.length > 0) {
    const e = fitTransfer(
      'cold stream transfer efficiency',
      tails.map((x) => idealTransferMs(x.memoryMiB * BYTES_PER_MIB, x.bandwidthMbps)),
      tails.map((x) => x.rec.transferMs - 2 * x.pathLatencyMs),
      prior.transferEfficiency,
    );
    const notes = [e.record.note ?? '', `from the ${tails.length} streamed records whose transfer ended after the dump (link-limited); its base is max(transferBaseMs, checkpointBaseMs - 2 l)`];
    p.transferBaseMs = e.baseMs;
    p.transferEfficiency = capEfficiency(e.efficiency, 'eta', notes);
    linkIdentified = !e.record.method.startsWith('transferBaseMs only');
    fit.push({ ...e.record, note: notes.filter(Boolean).join('; ') });
  }

  if (stream.length === 0) return linkIdentified;
  const cost: MigrationCostParams = { ...prior, ...p };
  const noTail = stream.filter((x) => transferable(x) && !hasTail(x));
  if (noTail.length > 0 && tails.length === 0 && t.length === 0) {
    // The link kept pace with every dump: stream(M) = checkpoint(M) needs
    // max(B + 2l, checkpointBaseMs) + ideal(M) / eta <= checkpoint(M) for each record.
    let etaMin = 0;
    for (const x of noTail) {
      const room = checkpointMs(x.memoryMiB, cost) - Math.max(transferSetupMs(x.pathLatencyMs, cost), cost.checkpointBaseMs);
      const ideal = idealTransferMs(x.memoryMiB * BYTES_PER_MIB, x.bandwidthMbps);
      etaMin = Math.max(etaMin, room > 0 ? ideal / room : Number.POSITIVE_INFINITY);
    }
    const notes = [
      `no streamed record shows a transfer tail after the dump: eta and transferBaseMs are not identified (the link kept pace with the dump), only ` +
        (Number.isFinite(etaMin) ? `eta >= ${etaMin.toPrecision(3)}` : 'a bound none can meet: some dumps are not longer than the stream start, max(transferBaseMs + 2 l, checkpointBaseMs)'),
    ];
    if (cost.transferEfficiency < etaMin) {
      p.transferEfficiency = Math.min(1, etaMin);
      notes.push(`eta raised from ${cost.transferEfficiency} to ${Math.min(1, etaMin).toPrecision(3)} so that the simulated stream ends with the dump` +
        (etaMin > 1 ? ' (capped at 1: the model cannot hide the whole transfer inside these dumps; see the overlap check)' : ''));
    } else {
      notes.push(`eta stays at ${cost.transferEfficiency} (${p.transferEfficiency === undefined ? 'the prior' : 'fitted'}), transferBaseMs at ${cost.transferBaseMs ?? 0}`);
    }
    fit.push({ group: 'cold stream transfer efficiency', method: 'bound only: ideal(M) / (checkpoint(M) - max(transferBaseMs + 2 l, checkpointBaseMs)) per record, the largest', n: noTail.length, r2: NaN, rmse: NaN, residuals: { meanMs: NaN, sdMs: NaN, maxAbsMs: NaN }, note: notes.join('; ') });
  }
  // The overlap: the calibrated model's stream(M) against what each streamed record measured.
  const final: MigrationCostParams = { ...prior, ...p };
  const checked = stream.filter(transferable);
  if (checked.length > 0) {
    const measured = checked.map((x) => Math.max(x.rec.checkpointMs, x.rec.transferMs));
    const res = checked.map((x, i) => measured[i] - streamMs(x.memoryMiB, x.bandwidthMbps, x.pathLatencyMs, final));
    const tailMs = checked.map((x) => Math.max(0, x.rec.transferMs - x.rec.checkpointMs));
    fit.push({
      group: 'cold stream overlap',
      method: 'check: max(checkpointMs, transferMs) vs stream(M) = max(checkpoint(M), max(transferBaseMs + 2 l, checkpointBaseMs) + megabits(M) / (eta W) * 1000)',
      n: checked.length,
      r2: NaN,
      rmse: rmseOf(res),
      residuals: residualSummary(res),
      note: `${checked.filter(hasTail).length} of ${checked.length} streamed records have a transfer tail after the dump (mean tail ${mean(tailMs).toFixed(1)} ms)`,
    });
  }
  if (stream.length * 2 >= all.length) {
    p.coldTransport = 'stream';
    fit.push({
      group: 'cold transport',
      method: 'stream when at least half of the cold records were streamed (transport column)',
      n: all.length,
      r2: NaN,
      rmse: NaN,
      residuals: { meanMs: NaN, sdMs: NaN, maxAbsMs: NaN },
      note: `${stream.length} of ${all.length} cold migrations were streamed (disk-less): coldTransport: stream`,
    });
  }
  return linkIdentified;
}

/**
 * Post-copy: the stop moves postcopyStateMiB S (checkpoint(S), transfer(S), restore(S)), then
 * the lazy pages stream M: lazyPagesMs - 2l - B = megabits(M) / (eta_lazy W) -> lazyPagesEfficiency.
 * S: with eta and B both fitted from cold transfers in the same runs (several sizes), S = (transferMs - 2l - B) eta W / megabits(1)
 * (mean over the records); without them S and B are not separable and S stays at its prior, B
 * taking the measured stop transfer. Checkpoint and restore act on the one size S: base only.
 */
function fitPostcopy(
  all: readonly Observation[],
  prior: MigrationCostParams,
  cold: Partial<MigrationCostParams>,
  coldLink: boolean,
  p: Partial<MigrationCostParams>,
  fit: FitRecord[],
): void {
  const scaled = scaleByDowntimeShare(all, 'postcopy downtime share of the phases', fit);
  const o = scaled.obs;
  if (scaled.stall) Object.assign(p, { restoreStallProbability: scaled.stall.probability, restoreStallMs: scaled.stall.ms });
  const known: MigrationCostParams = { ...prior, ...cold };
  const linkFitted = coldLink;
  let state = prior.postcopyStateMiB;
  const t = o.filter((x) => transferable(x) && x.rec.transferMs > 0);
  if (t.length > 0) {
    if (linkFitted) {
      const b = known.transferBaseMs ?? 0;
      const mibOf = (x: Observation): number => ((x.rec.transferMs - 2 * x.pathLatencyMs - b) * known.transferEfficiency * x.bandwidthMbps) / (mibToMegabits(1) * 1000);
      const est = mean(t.map(mibOf));
      if (est > 0) {
        state = est;
        p.postcopyStateMiB = est;
      }
      const res = t.map((x) => x.rec.transferMs - transferMs(state, x.bandwidthMbps, x.pathLatencyMs, { ...known, postcopyStateMiB: state }));
      fit.push({
        group: 'postcopy state',
        method: 'mean of (transferMs - 2 l - transferBaseMs) * eta * bandwidth / megabits(1 MiB), eta and transferBaseMs from the cold transfers',
        n: t.length,
        r2: NaN,
        rmse: rmseOf(res),
        residuals: residualSummary(res),
        note: est > 0 ? `postcopyStateMiB = ${est.toPrecision(4)}` : `the stop transfers are within the cold start-up (estimate ${est.toPrecision(3)} MiB): postcopyStateMiB stays at its prior (${state})`,
      });
    } else {
      const ideal = (x: Observation): number => (mibToMegabits(state) / (known.transferEfficiency * x.bandwidthMbps)) * 1000;
      const b = mean(t.map((x) => x.rec.transferMs - 2 * x.pathLatencyMs - ideal(x)));
      const base = Math.max(0, b);
      p.transferBaseMs = base;
      const res = t.map((x) => x.rec.transferMs - (base + 2 * x.pathLatencyMs + ideal(x)));
      fit.push({
        group: 'postcopy stop transfer',
        method: 'transferBaseMs only: mean of transferMs - 2 l - megabits(postcopyStateMiB) / (eta * bandwidth)',
        n: t.length,
        r2: NaN,
        rmse: rmseOf(res),
        residuals: residualSummary(res),
        note:
          `postcopyStateMiB stays at its prior (${state} MiB) and eta at ${known.transferEfficiency}: without cold transfers of several sizes in the runs to fix eta and the start-up, ` +
          'the state size and the start-up are not separable; the start-up takes the measured stop transfer' + (b < 0 ? ` (came out ${b.toPrecision(3)} ms: 0)` : ''),
      });
    }
  }
  const sizes = o.map(() => state);
  const cp = fitBasePerMiB('postcopy checkpoint', sizes, o.map((x) => x.rec.checkpointMs), known.checkpointMsPerMiB);
  const rs = fitBasePerMiB('postcopy restore', sizes, o.map((x) => x.rec.restoreMs), known.restoreMsPerMiB);
  Object.assign(p, { checkpointBaseMs: cp.base, restoreBaseMs: rs.base });
  fit.push(cp.record, rs.record);
  const base = p.transferBaseMs ?? known.transferBaseMs ?? 0;
  const l = o.filter((x) => transferable(x) && x.rec.lazyPagesMs > 2 * x.pathLatencyMs + base);
  if (l.length > 0) {
    const e = fitEfficiency(
      'postcopy lazy-pages efficiency',
      l.map((x) => idealTransferMs(x.memoryMiB * BYTES_PER_MIB, x.bandwidthMbps)),
      l.map((x) => x.rec.lazyPagesMs - 2 * x.pathLatencyMs - base),
    );
    const notes = [e.record.note ?? '', `lazyPagesMs - 2 l - transferBaseMs (${base.toPrecision(4)} ms) = megabits(memoryMiB) / (eta_lazy * bandwidth): the whole memory is fetched after the restore`];
    p.lazyPagesEfficiency = capEfficiency(e.efficiency, 'lazyPagesEfficiency', notes);
    fit.push({ ...e.record, method: e.record.method.replace('(transferMs - 2 pathLatency)', '(lazyPagesMs - 2 pathLatency - transferBaseMs)'), note: notes.filter(Boolean).join('; ') });
  } else {
    fit.push({
      group: 'postcopy lazy-pages efficiency',
      method: 'not fitted',
      n: 0,
      r2: NaN,
      rmse: NaN,
      residuals: { meanMs: NaN, sdMs: NaN, maxAbsMs: NaN },
      note: 'no record has a lazy-pages phase longer than its start-up: lazyPagesEfficiency stays at its prior (transferEfficiency unless set)',
    });
  }
}

// ---------------------------------------------------------------------------
// Live wall-clock phases (live-migrations.json): the dump/transfer overlap
// ---------------------------------------------------------------------------

/** One timed phase of a live migration (src/live/migrate/result.ts PhaseTiming). */
export interface PhaseWall {
  phase: string;
  wallMs: number;
  /** Start, relative to the start of the migration. */
  startWallMs: number;
}

/**
 * A cold record seen through its wall-clock phases. When the transfer started before the
 * dump ended (CRIU's page server: disk-less), the record is streamed whatever its
 * `transport` column says, and its transferMs becomes the model's: from the start of the
 * checkpoint phase to the end of the last transfer (the agreed meaning of a streamed
 * record's transferMs, whatever the live side timed as its transfer phase). Other records,
 * and records without both phases, are returned unchanged.
 */
export function withLivePhases(rec: MigrationRecord, phases: readonly PhaseWall[] | undefined): MigrationRecord {
  if (rec.mode !== 'cold' || !phases) return rec;
  const cps = phases.filter((x) => x.phase === 'checkpoint');
  const trs = phases.filter((x) => x.phase === 'transfer');
  if (cps.length === 0 || trs.length === 0) return rec;
  const cpStart = Math.min(...cps.map((x) => x.startWallMs));
  const cpEnd = Math.max(...cps.map((x) => x.startWallMs + x.wallMs));
  const trStart = Math.min(...trs.map((x) => x.startWallMs));
  const trEnd = Math.max(...trs.map((x) => x.startWallMs + x.wallMs));
  const overlapped = trStart < cpEnd - 1; // more than a millisecond of clock noise
  if (!overlapped && rec.transport !== 'stream') return rec;
  return { ...rec, transport: 'stream', transferMs: trEnd - cpStart };
}

// ---------------------------------------------------------------------------
// Post-copy fault penalty (from request records served during lazy-pages)
// ---------------------------------------------------------------------------

/**
 * Sorts a run's request records for the fault-penalty fit. A request reached the
 * node at sentS + (migrationWaitMs + networkMs / 2) / 1000 (the simulator adds the
 * penalty to requests that arrive while pages are still fetched). A post-copy
 * migration's lazy-pages phase lasts lazyPagesMs from the earlier of
 *   - startS + (totalMs - lazyPagesMs) / 1000 (exact in a simulated run; late in a live
 *     one by the verify and cleanup after the last page), and
 *   - the first arrival of a served request at the destination after startS (the
 *     service is back; late by at most the gap between requests).
 * Only containers with such a phase count; their requests that arrived during any
 * other part of a migration [startS, startS + totalMs / 1000) are left out. Call
 * finish() after the last add(): it classifies the requests held for the windows.
 */
export function lazyServiceCollector(
  migrations: readonly MigrationRecord[],
  scenario: Scenario,
  into: LazyServiceSamples = { lazy: [], otherRefMs: [] },
): { add(r: RequestRecord): void; finish(): LazyServiceSamples; samples: LazyServiceSamples } {
  const speed = new Map(scenario.topology.nodes.map((n) => [n.id, n.speedFactor]));
  interface LazyWindow { to: string; startS: number; endS: number; lazyS: number; firstAtDestS: number }
  const lazy = new Map<string, LazyWindow[]>();
  const busy = new Map<string, Array<[number, number]>>();
  for (const m of migrations) {
    if (!Number.isFinite(m.totalMs) || m.totalMs <= 0) continue;
    const endS = m.startS + m.totalMs / 1000;
    busy.set(m.containerId, [...(busy.get(m.containerId) ?? []), [m.startS, endS]]);
    if (m.mode === 'postcopy' && m.status === 'ok' && m.lazyPagesMs > 0) {
      const w = { to: m.to, startS: m.startS, endS, lazyS: m.lazyPagesMs / 1000, firstAtDestS: Number.POSITIVE_INFINITY };
      lazy.set(m.containerId, [...(lazy.get(m.containerId) ?? []), w]);
    }
  }
  const inAny = (ws: ReadonlyArray<[number, number]> | undefined, t: number): boolean => (ws ?? []).some(([a, b]) => t >= a && t < b);
  const held: Array<{ c: string; arrivalS: number; serviceMs: number; speedFactor: number }> = [];
  let finished = false;
  return {
    samples: into,
    add(r) {
      const ws = lazy.get(r.containerId);
      if (!ws || r.status !== 'served' || finished) return;
      const f = speed.get(r.nodeId) ?? 1;
      const arrivalS = r.sentS + (r.migrationWaitMs + r.networkMs / 2) / 1000;
      let inWindow = false;
      for (const w of ws) {
        if (arrivalS < w.startS || arrivalS >= w.endS + w.lazyS) continue;
        inWindow = true;
        if (r.nodeId === w.to && arrivalS < w.firstAtDestS) w.firstAtDestS = arrivalS;
      }
      if (inWindow) held.push({ c: r.containerId, arrivalS, serviceMs: r.serviceMs, speedFactor: f });
      else if (!inAny(busy.get(r.containerId), arrivalS)) into.otherRefMs.push(r.serviceMs * f);
    },
    finish() {
      if (finished) return into;
      finished = true;
      for (const h of held) {
        const w = (lazy.get(h.c) ?? []).find((x) => {
          const from = Math.min(x.endS - x.lazyS, x.firstAtDestS);
          return h.arrivalS >= from && h.arrivalS < from + x.lazyS;
        });
        if (w) into.lazy.push({ serviceMs: h.serviceMs, speedFactor: h.speedFactor });
        else if (!inAny(busy.get(h.c), h.arrivalS)) into.otherRefMs.push(h.serviceMs * h.speedFactor);
      }
      return into;
    },
  };
}

/**
 * postcopyFaultPenaltyMs = mean over the lazy requests of serviceMs - m / speedFactor,
 * m the mean reference service time of the same containers' other requests (the
 * simulator adds the penalty after dividing by the node's speed). Null with fewer than
 * 2 requests on either side. A negative estimate is not a penalty: 0, and the note says so.
 */
export function fitFaultPenalty(s: LazyServiceSamples): { penaltyMs: number; record: FitRecord } | null {
  if (s.lazy.length < 2 || s.otherRefMs.length < 2) return null;
  const ref = mean(s.otherRefMs);
  const d = s.lazy.map((x) => x.serviceMs - ref / x.speedFactor);
  const est = mean(d);
  const sd = (xs: readonly number[]): number => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs as number[])) ** 2, 0) / (xs.length - 1));
  const se = Math.sqrt(sd(d) ** 2 / d.length + sd(s.otherRefMs) ** 2 / s.otherRefMs.length);
  const penaltyMs = Math.max(0, est);
  const res = d.map((x) => x - penaltyMs);
  return {
    penaltyMs,
    record: {
      group: 'postcopy fault penalty',
      method: 'mean over requests that arrived during lazy-pages of serviceMs - (mean reference service time of the same containers outside migrations) / speedFactor',
      n: d.length,
      r2: NaN,
      rmse: rmseOf(res),
      residuals: residualSummary(res),
      note: `${d.length} requests during lazy-pages against ${s.otherRefMs.length} outside migrations; estimate ${est.toPrecision(3)} ms, standard error ${se.toPrecision(2)} ms` +
        (est < 0 ? ': negative, so postcopyFaultPenaltyMs = 0' : ''),
    },
  };
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
