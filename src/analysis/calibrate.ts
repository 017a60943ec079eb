/**
 * Calibrate the simulator from live runs (pure, except that the held-out check
 * calls an injected `simulate`).
 *
 * Migration cost, per migration mode, from MigrationRecords with status ok and
 * the migrated container's memory M (from the scenario); sizes follow the cost
 * model in src/model/migration-cost.ts:
 *   cold:      checkpointMs ~ base + perMiB * M      restoreMs ~ base + perMiB * M
 *              transferMs - 2 l = B + megabits(M [+ image]) / (eta W) * 1000  -> B, eta
 *              streamed records (transport: stream): the same line from those whose
 *              transfer ends after the dump; coldTransport and the overlap check (calibrate-cost.ts)
 *   precopy:   restoreMs ~ base + perMiB * M (CRIU restores all pages);
 *              checkpoint and transfer act on the unobserved final dirty set: not fitted
 *   postcopy:  postcopyStateMiB from the stop transfer (eta, B from cold) or B alone;
 *              checkpoint/restore act on postcopyStateMiB (one size: base only);
 *              lazyPagesMs - 2 l - B = megabits(M) / (eta_lazy W) * 1000  -> lazyPagesEfficiency;
 *              postcopyFaultPenaltyMs from requests served during lazy pages (opts.lazyService)
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
import { linearRegression, mean, rSquared } from 'simple-statistics';
import { ConmigError } from '../model/errors.ts';
import { BackhaulGraph } from '../model/latency.ts';
import { BYTES_PER_MIB } from '../model/units.ts';
import type { RunData } from '../model/results.ts';
import type { MigrationCostParams, MigrationMode, Scenario, ServiceTimeSpec } from '../model/types.ts';
import { pairMigrations } from './compare.ts';
import { pairedRelativeErrors, relativeError } from './stats.ts';
import type { CalibrateOptions, CalibrationResult, HeldOutError } from './calibrate-types.ts';
import { fitServiceTime, rescaleServiceTime } from './calibrate-fits.ts';
import { accessObservation, fitAccess, fitFaultPenalty, fitMigrationCost, observations } from './calibrate-cost.ts';

export { BYTES_PER_MIB } from '../model/units.ts';
export * from './calibrate-types.ts';
export * from './calibrate-fits.ts';
export { accessObservation, lazyServiceCollector, withLivePhases, type PhaseWall } from './calibrate-cost.ts';

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
  const penalty = opts.lazyService ? fitFaultPenalty(opts.lazyService) : null;
  if (penalty) {
    params.postcopy = { ...params.postcopy, postcopyFaultPenaltyMs: penalty.penaltyMs };
    fit.push(penalty.record);
  }
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
