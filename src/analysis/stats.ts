/**
 * Statistics for comparing runs (pure; no I/O).
 *
 * Percentiles are nearest-rank everywhere (the ceil(q n)-th smallest value),
 * the definition LatencyHistogram.quantile uses, so a percentile computed from
 * raw samples and one computed from the run's histogram agree to within the
 * histogram's bucket width.
 *
 * Methods:
 *  - Percentile CI from samples: distribution-free order-statistic interval
 *    [X(l), X(u)] with ranks from Binomial(n, q) (exact binomial CDF for
 *    n q (1-q) <= 1e4, else the normal approximation). Coverage >= level,
 *    except when n is so small that a rank has to be clamped to 1 or n
 *    (then `clamped` is true and the interval is narrower than nominal).
 *  - Percentile CI from a histogram: the same binomial ranks, mapped to the
 *    lower bound of the bucket holding rank l and the upper bound of the bucket
 *    holding rank u (conservative: widened to whole buckets).
 *  - Mean CI across seeds: Student t with n - 1 degrees of freedom.
 *  - Distribution functions (normal and t quantiles and CDFs, the incomplete
 *    beta) come from stdlib (@stdlib/*: ports of Boost and Cephes with stated
 *    accuracy), not hand-written approximations; see docs/compare.md.
 *  - Two-sample KS: exact D on samples; on two histograms, D over the bucket
 *    upper edges, which is a LOWER BOUND of the D of the underlying samples
 *    (the supremum is taken over fewer points). p-value: asymptotic Kolmogorov
 *    distribution Q(sqrt(ne) D), ne = n1 n2 / (n1 + n2).
 */
import { gammaln, mean as ssMean } from 'simple-statistics';
import { ConmigError } from '../model/errors.ts';
import type { HistogramBucketRow } from '../model/results.ts';
import { histogramCount, usage } from './common.ts';
import { normalQuantile, type Interval } from './distributions.ts';

export { histogramCount } from './common.ts';
export * from './distributions.ts';
export * from './ks.ts';

export interface PercentileEstimate {
  q: number;
  valueMs: number;
  ci: Interval & {
    /** 1-based ranks of the order statistics bounding the interval. */
    lowerRank: number;
    upperRank: number;
    /** A rank had to be clamped to [1, n]: coverage is below `level`. */
    clamped: boolean;
    method: 'order-statistic' | 'histogram-binomial';
  };
}

function checkQ(q: number): void {
  if (!(q > 0 && q < 1)) throw usage(`percentile q must be in (0, 1), got ${q}`, { q });
}

/** 1-based nearest rank of quantile q among n values. */
export function nearestRank(q: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(q * n)));
}

/** Nearest-rank percentile of an ascending-sorted array. NaN when empty. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  if (q <= 0) return sorted[0];
  if (q >= 1) return sorted[sorted.length - 1];
  return sorted[nearestRank(q, sorted.length) - 1];
}

/** Ascending copy as a Float64Array (numeric sort, not lexicographic). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

// ---------------------------------------------------------------------------
// Binomial ranks for order-statistic intervals
// ---------------------------------------------------------------------------

function logBinomPmf(k: number, n: number, p: number): number {
  return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/**
 * Ranks (1-based) l <= u of the order statistics that bound the q-quantile with
 * confidence >= level: l is the largest rank with P(B < l) <= alpha/2 and u the
 * smallest with P(B >= u) <= alpha/2, B ~ Binomial(n, q).
 */
export function orderStatisticRanks(
  n: number,
  q: number,
  level = 0.95,
): { lowerRank: number; upperRank: number; clamped: boolean } {
  checkQ(q);
  if (!(n >= 1) || !Number.isInteger(n)) throw usage(`order-statistic ranks need n >= 1, got ${n}`, { n });
  const alpha = 1 - level;
  let l: number;
  let u: number;
  const variance = n * q * (1 - q);
  if (variance > 1e4) {
    const z = normalQuantile(1 - alpha / 2);
    const sd = Math.sqrt(variance);
    l = Math.floor(n * q - z * sd);
    u = Math.ceil(n * q + z * sd) + 1;
  } else {
    // Exact: walk the CDF, P(B <= k) accumulated from k0. Below k0 = n q - 12 sd the
    // binomial mass is < 1e-30, negligible next to alpha/2, so the walk costs O(sd), not O(n).
    const k0 = Math.max(0, Math.floor(n * q - 12 * Math.sqrt(variance)));
    l = k0;
    u = n + 1;
    let cdf = 0;
    let lFound = false;
    for (let k = k0; k <= n; k++) {
      cdf += Math.exp(logBinomPmf(k, n, q)); // now P(B <= k)
      // P(B < k+1) = cdf: rank k+1 is a valid lower bound while cdf <= alpha/2.
      if (!lFound) {
        if (cdf <= alpha / 2 + 1e-12) l = k + 1;
        else lFound = true;
      }
      // u = smallest rank with P(B >= u) <= alpha/2, i.e. P(B <= u - 1) >= 1 - alpha/2.
      if (cdf >= 1 - alpha / 2 - 1e-12) {
        u = k + 1;
        break;
      }
    }
  }
  const clamped = l < 1 || u > n;
  return { lowerRank: Math.max(1, Math.min(n, l)), upperRank: Math.max(1, Math.min(n, u)), clamped };
}

/** Nearest-rank percentile of raw samples with its order-statistic CI. */
export function percentileFromSamples(sorted: ArrayLike<number>, q: number, level = 0.95): PercentileEstimate {
  checkQ(q);
  const n = sorted.length;
  if (n === 0) throw new ConmigError('RESULT_INVALID', 'percentile of an empty sample', { context: { q } });
  const r = orderStatisticRanks(n, q, level);
  return {
    q,
    valueMs: percentileSorted(sorted, q),
    ci: {
      lo: sorted[r.lowerRank - 1],
      hi: sorted[r.upperRank - 1],
      level,
      lowerRank: r.lowerRank,
      upperRank: r.upperRank,
      clamped: r.clamped,
      method: 'order-statistic',
    },
  };
}

/** Index of the row holding the 1-based rank (rows ascending). */
function rowOfRank(rows: readonly HistogramBucketRow[], rank: number): number {
  let seen = 0;
  for (let i = 0; i < rows.length; i++) {
    seen += rows[i].count;
    if (seen >= rank) return i;
  }
  return rows.length - 1;
}

/**
 * Nearest-rank percentile from histogram rows (ascending, as in latency-hist.csv):
 * the middle of the bucket holding the rank, clamped to [minMs, maxMs] when given
 * (the same value as LatencyHistogram.quantile). CI: binomial ranks mapped to
 * whole buckets (lower bound of rank l's bucket, upper bound of rank u's).
 */
export function percentileFromHistogram(
  rows: readonly HistogramBucketRow[],
  q: number,
  level = 0.95,
  exact?: { minMs: number; maxMs: number },
): PercentileEstimate {
  checkQ(q);
  const n = histogramCount(rows);
  if (n === 0) throw new ConmigError('RESULT_INVALID', 'percentile of an empty histogram', { context: { q } });
  const clamp = (v: number): number => (exact ? Math.min(exact.maxMs, Math.max(exact.minMs, v)) : v);
  const at = rows[rowOfRank(rows, nearestRank(q, n))];
  const r = orderStatisticRanks(n, q, level);
  return {
    q,
    valueMs: clamp((at.lowerMs + at.upperMs) / 2),
    ci: {
      lo: clamp(rows[rowOfRank(rows, r.lowerRank)].lowerMs),
      hi: clamp(rows[rowOfRank(rows, r.upperRank)].upperMs),
      level,
      lowerRank: r.lowerRank,
      upperRank: r.upperRank,
      clamped: r.clamped,
      method: 'histogram-binomial',
    },
  };
}

// ---------------------------------------------------------------------------
// Relative errors
// ---------------------------------------------------------------------------

/** (value - reference) / |reference|; NaN when the reference is 0 (and value is not). */
export function relativeError(value: number, reference: number): number {
  if (reference === 0) return value === 0 ? 0 : NaN;
  return (value - reference) / Math.abs(reference);
}

export interface PairedErrors {
  n: number;
  /** Mean of |relative error| over the pairs. */
  meanAbsRel: number;
  /** Largest |relative error| and the pair index it occurs at. */
  worstAbsRel: number;
  worstIndex: number;
  /** Mean signed relative error (bias: > 0 means `values` overestimate). */
  meanRel: number;
}

/** Relative errors of paired values against references (e.g. simulated vs measured downtimes). */
export function pairedRelativeErrors(values: readonly number[], references: readonly number[]): PairedErrors {
  if (values.length !== references.length) {
    throw usage('paired relative errors need equally long lists', { values: values.length, references: references.length });
  }
  const errs = values.map((v, i) => relativeError(v, references[i])).filter((e) => Number.isFinite(e));
  if (errs.length === 0) return { n: 0, meanAbsRel: NaN, worstAbsRel: NaN, worstIndex: -1, meanRel: NaN };
  let worst = -1;
  let worstIndex = -1;
  values.forEach((v, i) => {
    const e = Math.abs(relativeError(v, references[i]));
    if (Number.isFinite(e) && e > worst) {
      worst = e;
      worstIndex = i;
    }
  });
  return {
    n: errs.length,
    meanAbsRel: ssMean(errs.map(Math.abs)),
    worstAbsRel: worst,
    worstIndex,
    meanRel: ssMean(errs),
  };
}
