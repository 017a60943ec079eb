/**
 * Calibrate the simulator from live runs (pure, except that the held-out check
 * calls an injected `simulate`).
 *
 * Migration cost, per migration mode, from MigrationRecords with status ok and
 * the migrated container's memory M (from the scenario); sizes follow the cost
 * model in src/model/migration-cost.ts:
 *   cold:      checkpointMs ~ base + perMiB * M      restoreMs ~ base + perMiB * M
 *              transferMs - 2 l = megabits(bytes) / (eta W) * 1000  -> eta
 *   precopy:   restoreMs ~ base + perMiB * M (CRIU restores all pages);
 *              checkpoint and transfer act on the unobserved final dirty set: not fitted
 *   postcopy:  checkpoint/restore act on postcopyStateMiB (one size: base only);
 *              lazyPagesMs - 2 l = megabits(M) / (eta W) * 1000    -> eta
 * l and W: one-way latency and bottleneck bandwidth of the backhaul path
 * from -> to (BackhaulGraph of the scenario's topology).
 *
 * Linear fits use simple-statistics linearRegression / rSquared. With a single
 * memory size (or fewer than 3 records) only base + perMiB * M is identifiable:
 * perMiB is then fixed at the prior (the scenario's value) and base is the mean
 * of y - perMiB * M; the fit record says so. eta is the least-squares slope
 * through the origin of ideal vs measured transfer time, inverted.
 *
 * Service time (when reference-CPU samples are given, e.g. requests.csv
 * serviceMs x the node's speedFactor): lognormal by maximum likelihood on the
 * logs; kept if a one-sample KS test against the fitted lognormal gives
 * p >= 0.05, otherwise an empirical sample of <= 2000 values (evenly spaced
 * order statistics: deterministic). Without samples: the runs' mean service
 * component rescales the scenario's service time (mean only).
 *
 * Access latency (geometric model, when access observations are given): from
 * served requests of STATIC users, whose access point is known (the nearest to
 * their position): one-way access = (networkMs - backhaul RTT - payload
 * transmission) / 2, fitted as accessBaseMs + accessMsPerKm * distance(user, AP)
 * with the same base/slope rule as the cost constants (one distance: base only).
 */
import { linearRegression, mean, rSquared, sampleStandardDeviation } from 'simple-statistics';
import { ConmigError } from '../model/errors.ts';
import { BackhaulGraph, distanceKm, LatencyModel } from '../model/latency.ts';
import { BYTES_PER_MIB, mibToMegabits } from '../model/units.ts';
import type { MigrationRecord, RequestRecord, RunData } from '../model/results.ts';
import type { MigrationCostParams, MigrationMode, Scenario, ServiceTimeSpec } from '../model/types.ts';
import { pairMigrations } from './compare.ts';
import { ksOneSample, normalCdf, pairedRelativeErrors, relativeError, sortedCopy } from './stats.ts';

export { BYTES_PER_MIB } from '../model/units.ts';
export const MAX_EMPIRICAL_SAMPLES = 2000;
export const SERVICE_KS_ALPHA = 0.05;

export interface ResidualSummary {
  meanMs: number;
  sdMs: number;
  maxAbsMs: number;
}

export interface FitRecord {
  /** e.g. "cold checkpoint", "postcopy transfer efficiency", "service time". */
  group: string;
  method: string;
  n: number;
  r2: number;
  rmse: number;
  residuals: ResidualSummary;
  note?: string;
}

export interface HeldOutError {
  dir?: string;
  seed: number;
  /** (simulated - measured) / measured */
  p50Rel: number;
  p95Rel: number;
  /** Of the mean downtime (NaN when either run has no migrations). */
  downtimeMeanRel: number;
  /** Paired (by container and order) downtimes: mean |relative error|. */
  downtimePairedMeanAbsRel: number;
  pairedMigrations: number;
}

export interface CalibrationResult {
  params: Partial<Record<MigrationMode, Partial<MigrationCostParams>>>;
  serviceTime?: ServiceTimeSpec;
  accessLatency?: { accessBaseMs: number; accessMsPerKm: number };
  fit: FitRecord[];
  /** Indices of the runs the parameters were fitted on. */
  trainedOn: number[];
  heldOut?: HeldOutError[];
}

export interface CalibrateOptions {
  /** Prior cost constants (fixed slopes, defaults for what cannot be fitted). Default: the scenario's. */
  prior?: MigrationCostParams;
  /** Service times on the reference CPU, in ms (from requests.csv). */
  serviceSamplesMs?: readonly number[];
  /** One-way access latency of static users' requests vs their distance to the AP (see accessObservation). */
  accessObservations?: ReadonlyArray<{ distanceKm: number; accessMs: number }>;
  /** Hold out the last K runs: fit on the others, simulate and report the error on these. */
  holdout?: number;
  /** The simulator, injected (the scenario's seed is set to the held-out run's). */
  simulate?: (scenario: Scenario) => Promise<RunData>;
  /** Run folders in the order of `liveRuns`, for the held-out report. */
  dirs?: readonly string[];
}

// ---------------------------------------------------------------------------
// Fitting helpers
// ---------------------------------------------------------------------------

function residualSummary(res: readonly number[]): ResidualSummary {
  return {
    meanMs: res.length ? mean(res as number[]) : NaN,
    sdMs: res.length > 1 ? sampleStandardDeviation(res as number[]) : NaN,
    maxAbsMs: res.length ? Math.max(...res.map(Math.abs)) : NaN,
  };
}

function rmseOf(res: readonly number[]): number {
  return res.length ? Math.sqrt(res.reduce((a, r) => a + r * r, 0) / res.length) : NaN;
}

export interface LinearFit {
  base: number;
  perMiB: number;
  record: FitRecord;
}

/**
 * y = base + perMiB * x by least squares; with fewer than 3 points or a single
 * distinct x, perMiB is fixed at `priorPerMiB` and only base is fitted.
 */
/** How the regressor of a base + slope fit is named in the fit record. */
export interface FitAxis {
  variable: string;
  unit: string;
  slope: string;
}
export const MEMORY_AXIS: FitAxis = { variable: 'memoryMiB', unit: 'MiB', slope: 'perMiB' };
export const DISTANCE_AXIS: FitAxis = { variable: 'distanceKm', unit: 'km', slope: 'perKm' };

export function fitBasePerMiB(
  group: string,
  xs: readonly number[],
  ys: readonly number[],
  priorPerMiB: number,
  axis: FitAxis = MEMORY_AXIS,
): LinearFit {
  const n = xs.length;
  if (n === 0) throw new ConmigError('USAGE', `${group}: no observations to fit`, { context: { group } });
  const distinct = new Set(xs).size;
  const pts = xs.map((x, i) => [x, ys[i]]);
  let base: number;
  let perMiB: number;
  let method: string;
  let note: string | undefined;
  if (n >= 3 && distinct >= 2) {
    const lr = linearRegression(pts);
    base = lr.b;
    perMiB = lr.m;
    method = `least squares y = base + ${axis.slope} * ${axis.variable}`;
    if (base < 0 || perMiB < 0) note = 'a fitted constant is negative: check the data (the cost model expects both >= 0)';
  } else {
    perMiB = priorPerMiB;
    base = mean(xs.map((x, i) => ys[i] - priorPerMiB * x));
    method = `base only: ${axis.slope} fixed at the prior`;
    note =
      distinct < 2
        ? `a single ${axis.variable} (${xs[0]} ${axis.unit}): only base + ${axis.slope} * ${axis.variable} is identifiable`
        : `only ${n} observations`;
  }
  const f = (x: number): number => base + perMiB * x;
  const res = xs.map((x, i) => ys[i] - f(x));
  const r2 = n >= 2 && distinct >= 2 ? rSquared(pts, f) : NaN;
  return { base, perMiB, record: { group, method, n, r2, rmse: rmseOf(res), residuals: residualSummary(res), ...(note ? { note } : {}) } };
}

/**
 * Transfer efficiency eta from pairs (ideal ms at full bandwidth, measured ms
 * minus setup): measured = ideal / eta, slope through the origin by least squares.
 */
export function fitEfficiency(group: string, idealMs: readonly number[], measuredMs: readonly number[]): { efficiency: number; record: FitRecord } {
  const n = idealMs.length;
  if (n === 0) throw new ConmigError('USAGE', `${group}: no observations to fit`, { context: { group } });
  let sxy = 0;
  let sxx = 0;
  idealMs.forEach((x, i) => {
    sxy += x * measuredMs[i];
    sxx += x * x;
  });
  const slope = sxy / sxx;
  const f = (x: number): number => slope * x;
  const res = idealMs.map((x, i) => measuredMs[i] - f(x));
  const pts = idealMs.map((x, i) => [x, measuredMs[i]]);
  const efficiency = 1 / slope;
  return {
    efficiency,
    record: {
      group,
      method: 'least squares through the origin: (transferMs - 2 pathLatency) = megabits / (eta * bandwidth)',
      n,
      r2: n >= 2 ? rSquared(pts, f) : NaN,
      rmse: rmseOf(res),
      residuals: residualSummary(res),
      ...(efficiency > 1 ? { note: 'eta > 1: transfers were faster than the link bandwidth allows (check the topology)' } : {}),
    },
  };
}

// ---------------------------------------------------------------------------
// Service time
// ---------------------------------------------------------------------------

export function lognormalCdf(x: number, mu: number, sigma: number): number {
  if (x <= 0) return 0;
  return normalCdf((Math.log(x) - mu) / sigma);
}

/** Lognormal by maximum likelihood: mu, sigma of the logs; mean = exp(mu + sigma^2 / 2). */
export function fitLognormal(samples: readonly number[]): { meanMs: number; sdMs: number; mu: number; sigma: number } {
  const logs = samples.filter((x) => x > 0).map(Math.log);
  if (logs.length < 2) throw new ConmigError('USAGE', 'lognormal fit needs at least two positive samples', { context: { n: logs.length } });
  const mu = mean(logs);
  // MLE variance (divide by n).
  const sigma = Math.sqrt(logs.reduce((a, l) => a + (l - mu) ** 2, 0) / logs.length);
  const meanMs = Math.exp(mu + (sigma * sigma) / 2);
  return { meanMs, sdMs: meanMs * Math.sqrt(Math.expm1(sigma * sigma)), mu, sigma };
}

/** At most `max` evenly spaced order statistics (ranks floor((i + 0.5) n / max)): deterministic. */
export function subsampleSorted(sorted: ArrayLike<number>, max = MAX_EMPIRICAL_SAMPLES): number[] {
  const n = sorted.length;
  if (n <= max) return Array.from(sorted);
  return Array.from({ length: max }, (_, i) => sorted[Math.floor(((i + 0.5) * n) / max)]);
}

export function fitServiceTime(samplesMs: readonly number[]): { spec: ServiceTimeSpec; record: FitRecord } {
  const sorted = sortedCopy(samplesMs);
  const ln = fitLognormal(samplesMs);
  const ks = ksOneSample(sorted, (x) => lognormalCdf(x, ln.mu, ln.sigma));
  const round = (x: number): number => Number(x.toPrecision(6));
  if (ks.pValue >= SERVICE_KS_ALPHA) {
    return {
      spec: { kind: 'lognormal', meanMs: round(ln.meanMs), sdMs: round(ln.sdMs) },
      record: {
        group: 'service time',
        method: `lognormal by maximum likelihood (KS D = ${ks.d.toFixed(4)}, p = ${ks.pValue.toFixed(3)} >= ${SERVICE_KS_ALPHA}: kept)`,
        n: samplesMs.length,
        r2: NaN,
        rmse: NaN,
        residuals: { meanMs: NaN, sdMs: NaN, maxAbsMs: NaN },
      },
    };
  }
  const kept = subsampleSorted(sorted).map(round);
  return {
    spec: { kind: 'empirical', samplesMs: kept, name: `calibrated from ${samplesMs.length} live requests` },
    record: {
      group: 'service time',
      method:
        `empirical, ${kept.length} evenly spaced order statistics of ${samplesMs.length} samples ` +
        `(lognormal rejected: KS D = ${ks.d.toFixed(4)}, p = ${ks.pValue.toExponential(2)} < ${SERVICE_KS_ALPHA})`,
      n: samplesMs.length,
      r2: NaN,
      rmse: NaN,
      residuals: { meanMs: NaN, sdMs: NaN, maxAbsMs: NaN },
    },
  };
}

/** Rescale a service-time spec to a new mean, keeping its shape (CV). */
export function rescaleServiceTime(spec: ServiceTimeSpec, meanMs: number): ServiceTimeSpec {
  switch (spec.kind) {
    case 'exponential':
      return { kind: 'exponential', meanMs };
    case 'deterministic':
      return { kind: 'deterministic', valueMs: meanMs };
    case 'lognormal':
      return { kind: 'lognormal', meanMs, sdMs: (spec.sdMs * meanMs) / spec.meanMs };
    case 'empirical': {
      const m = mean(spec.samplesMs);
      return { ...spec, samplesMs: spec.samplesMs.map((x) => Number(((x * meanMs) / m).toPrecision(6))) };
    }
  }
}

// ---------------------------------------------------------------------------
// Migration cost
// ---------------------------------------------------------------------------

interface Observation {
  rec: MigrationRecord;
  memoryMiB: number;
  imageMiB: number;
  pathLatencyMs: number;
  bandwidthMbps: number;
}

function observations(runs: readonly RunData[], scenario: Scenario): Observation[] {
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

function fitMigrationCost(
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
        const e = fitEfficiency(
          'cold transfer efficiency',
          t.map((x) => idealTransferMs(modelBytes(x), x.bandwidthMbps)),
          t.map((x) => x.rec.transferMs - 2 * x.pathLatencyMs),
        );
        const measuredMiB = mean(t.map((x) => x.rec.bytes / BYTES_PER_MIB));
        const modelMiB = mean(t.map((x) => modelBytes(x) / BYTES_PER_MIB));
        const notes = [e.record.note];
        if (measuredMiB < modelMiB / 2 || measuredMiB > modelMiB * 2) {
          notes.push(
            `fitted on the model's transfer size (${modelMiB.toFixed(1)} MiB: memoryMiB${prior.imageCached ? '' : ' + imageMiB'}), ` +
              `not the measured one (mean ${measuredMiB.toFixed(2)} MiB): eta also absorbs the difference and the per-transfer overhead`,
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

function fitAccess(
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

// ---------------------------------------------------------------------------
// Putting it together
// ---------------------------------------------------------------------------

/**
 * The cost constants a calibrated scenario uses: the prior, overridden by the
 * fitted constants of the other modes, then of cold, then of the scenario's
 * own mode (checkpoint/restore speeds are properties of CRIU and the node, so a
 * constant fitted in one mode carries over to the others).
 */
export function mergedCost(scenario: Scenario, params: CalibrationResult['params']): MigrationCostParams {
  const order: MigrationMode[] = (['precopy', 'postcopy', 'cold'] as MigrationMode[]).filter((m) => m !== scenario.migration.mode);
  order.push(scenario.migration.mode);
  const out: MigrationCostParams = { ...scenario.migration.cost };
  for (const m of order) Object.assign(out, params[m] ?? {});
  return out;
}

/** The scenario with the calibrated constants applied (pure). */
export function calibratedScenario(scenario: Scenario, result: Pick<CalibrationResult, 'params' | 'serviceTime' | 'accessLatency'>): Scenario {
  const latency =
    result.accessLatency && scenario.latency.kind === 'geometric' ? { ...scenario.latency, ...result.accessLatency } : scenario.latency;
  return {
    ...scenario,
    latency,
    migration: { ...scenario.migration, cost: mergedCost(scenario, result.params) },
    containers: result.serviceTime ? scenario.containers.map((c) => ({ ...c, serviceTime: result.serviceTime as ServiceTimeSpec })) : scenario.containers,
  };
}

function fitOn(runs: readonly RunData[], scenario: Scenario, opts: CalibrateOptions): Omit<CalibrationResult, 'trainedOn' | 'heldOut'> {
  const prior = opts.prior ?? scenario.migration.cost;
  const obs = observations(runs, scenario);
  const { params, fit } = fitMigrationCost(obs, prior);
  let serviceTime: ServiceTimeSpec | undefined;
  if (opts.serviceSamplesMs && opts.serviceSamplesMs.length >= 2) {
    const s = fitServiceTime(opts.serviceSamplesMs);
    serviceTime = s.spec;
    fit.push(s.record);
  } else {
    const served = runs.map((r) => r.summary.requests.served);
    const total = served.reduce((a, b) => a + b, 0);
    const template = scenario.containers[0]?.serviceTime;
    if (total > 0 && template) {
      const meanMs = runs.reduce((a, r, i) => a + r.summary.componentsMeanMs.service * served[i], 0) / total;
      serviceTime = rescaleServiceTime(template, Number(meanMs.toPrecision(6)));
      fit.push({
        group: 'service time',
        method: `mean only: the ${template.kind} service time rescaled to the runs' mean service component (no requests.csv)`,
        n: total,
        r2: NaN,
        rmse: NaN,
        residuals: { meanMs: NaN, sdMs: NaN, maxAbsMs: NaN },
        note: 'the mean service component includes node speed factors; give requests.csv for a per-request fit',
      });
    }
  }
  const access = opts.accessObservations ? fitAccess(opts.accessObservations, scenario) : null;
  if (access) fit.push(access.record);
  if (obs.length === 0 && !serviceTime && !access) {
    throw new ConmigError('RESULT_INVALID', 'nothing to calibrate: the runs have no successful migrations and no served requests', {
      context: { runs: opts.dirs ?? runs.length },
    });
  }
  return { params, fit, ...(serviceTime ? { serviceTime } : {}), ...(access ? { accessLatency: access.accessLatency } : {}) };
}

/**
 * Fit the cost model (and service time) to live runs. With `holdout: K`, the
 * last K runs are held out: the parameters are fitted on the others, the
 * calibrated scenario is simulated with each held-out run's seed, and the
 * simulated p50/p95/downtime are compared with the measured ones.
 */
export async function calibrate(liveRuns: readonly RunData[], scenario: Scenario, opts: CalibrateOptions = {}): Promise<CalibrationResult> {
  if (liveRuns.length === 0) throw new ConmigError('USAGE', 'calibrate needs at least one run', {});
  const k = opts.holdout ?? 0;
  if (!Number.isInteger(k) || k < 0 || (k > 0 && k >= liveRuns.length)) {
    throw new ConmigError('USAGE', `--holdout must be an integer from 0 to ${liveRuns.length - 1} (fewer than the ${liveRuns.length} runs given), got ${k}`, {
      context: { holdout: k, runs: liveRuns.length },
    });
  }
  if (k > 0 && !opts.simulate) {
    throw new ConmigError('USAGE', 'a held-out check needs a simulator (opts.simulate)', { context: { holdout: k } });
  }
  const trainIdx = liveRuns.map((_, i) => i).slice(0, liveRuns.length - k);
  const fitted = fitOn(trainIdx.map((i) => liveRuns[i]), scenario, opts);
  const result: CalibrationResult = { ...fitted, trainedOn: trainIdx };
  if (k > 0 && opts.simulate) {
    const cal = calibratedScenario(scenario, fitted);
    const heldOut: HeldOutError[] = [];
    for (let i = liveRuns.length - k; i < liveRuns.length; i++) {
      const live = liveRuns[i];
      const sim = await opts.simulate({ ...cal, seed: live.summary.seed });
      const paired = pairMigrations(live.migrations, sim.migrations);
      const pe = pairedRelativeErrors(
        paired.pairs.map((p) => p.other.downtimeMs),
        paired.pairs.map((p) => p.reference.downtimeMs),
      );
      const hasMig = live.summary.migrations.count > 0 && sim.summary.migrations.count > 0;
      heldOut.push({
        ...(opts.dirs?.[i] ? { dir: opts.dirs[i] } : {}),
        seed: live.summary.seed,
        p50Rel: relativeError(sim.summary.responseMs.p50Ms, live.summary.responseMs.p50Ms),
        p95Rel: relativeError(sim.summary.responseMs.p95Ms, live.summary.responseMs.p95Ms),
        downtimeMeanRel: hasMig ? relativeError(sim.summary.migrations.downtimeMs.mean, live.summary.migrations.downtimeMs.mean) : NaN,
        downtimePairedMeanAbsRel: pe.meanAbsRel,
        pairedMigrations: pe.n,
      });
    }
    result.heldOut = heldOut;
  }
  return result;
}
