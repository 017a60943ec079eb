/** The fits calibration is made of: least squares with residuals, transfer efficiency, service time (lognormal or empirical). */
import { linearRegression, mean, rSquared, sampleStandardDeviation } from 'simple-statistics';
import { ConmigError } from '../model/errors.ts';
import { distanceKm } from '../model/latency.ts';
import type { ServiceTimeSpec } from '../model/types.ts';
import { ksOneSample, normalCdf, sortedCopy } from './stats.ts';

import type { FitRecord, ResidualSummary } from './calibrate-types.ts';

export const MAX_EMPIRICAL_SAMPLES = 2000;
export const SERVICE_KS_ALPHA = 0.05;

// ---------------------------------------------------------------------------
// Fitting helpers
// ---------------------------------------------------------------------------

export function residualSummary(res: readonly number[]): ResidualSummary {
  return {
    meanMs: res.length ? mean(res as number[]) : NaN,
    sdMs: res.length > 1 ? sampleStandardDeviation(res as number[]) : NaN,
    maxAbsMs: res.length ? Math.max(...res.map(Math.abs)) : NaN,
  };
}

export function rmseOf(res: readonly number[]): number {
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

export const TRANSFER_AXIS: FitAxis = { variable: 'idealTransferMs', unit: 'ms', slope: '1/eta' };

/**
 * A transfer's fixed start-up B (transferBaseMs) and efficiency eta from pairs
 * (ideal ms at full bandwidth, measured ms minus the path RTT):
 * measured = B + ideal / eta. With several transfer sizes both are fitted by
 * least squares; with one size only their sum is identifiable, so eta stays at
 * the prior and B takes the rest (the start-up of ssh and tar is what a small
 * checkpoint's transfer time mostly is). A negative B is not a cost: then B = 0
 * and eta is fitted through the origin.
 */
export function fitTransfer(group: string, idealMs: readonly number[], measuredMs: readonly number[], priorEfficiency: number):
  { baseMs: number; efficiency: number; record: FitRecord } {
  const lf = fitBasePerMiB(group, idealMs, measuredMs, 1 / priorEfficiency, TRANSFER_AXIS);
  if (lf.base >= 0 && lf.perMiB > 0) {
    const method = lf.record.method.startsWith('least squares')
      ? 'least squares: (transferMs - 2 pathLatency) = transferBaseMs + megabits / (eta * bandwidth)'
      : 'transferBaseMs only: eta fixed at the prior, (transferMs - 2 pathLatency) = transferBaseMs + megabits / (eta * bandwidth)';
    return { baseMs: lf.base, efficiency: 1 / lf.perMiB, record: { ...lf.record, method } };
  }
  const e = fitEfficiency(group, idealMs, measuredMs);
  const note = [e.record.note, `the fixed start-up came out negative (${lf.base.toPrecision(3)} ms): transferBaseMs = 0, eta fitted through the origin`]
    .filter(Boolean).join('; ');
  return { baseMs: 0, efficiency: e.efficiency, record: { ...e.record, note } };
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
