/**
 * Kolmogorov-Smirnov: two-sample D exact on samples, or on two histograms'
 * bucket CDFs (a lower bound of the samples' D); one-sample D against a CDF;
 * p-values from the asymptotic Kolmogorov distribution.
 */
import { ConmigError } from '../model/errors.ts';
import type { HistogramBucketRow } from '../model/results.ts';
import { histogramCount, usage } from './common.ts';

// ---------------------------------------------------------------------------
// Kolmogorov-Smirnov
// ---------------------------------------------------------------------------

/** Kolmogorov survival function Q(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2). */
export function kolmogorovQ(lambda: number): number {
  if (lambda <= 0) return 1;
  if (lambda < 0.2) return 1; // the series is 1 to double precision well below this
  let sum = 0;
  let sign = 1;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += sign * term;
    if (term < 1e-17) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

export interface KsResult {
  d: number;
  /** Asymptotic p-value Q(sqrt(ne) * d). */
  pValue: number;
  n1: number;
  n2: number;
  /** n1 n2 / (n1 + n2). */
  effectiveN: number;
  /** exact: from the samples; histogram-lower-bound: from bucket CDFs (true D >= d). */
  method: 'exact' | 'histogram-lower-bound';
}

export function ksPValue(d: number, n1: number, n2: number): number {
  const ne = (n1 * n2) / (n1 + n2);
  return kolmogorovQ(Math.sqrt(ne) * d);
}

/** Exact two-sample KS statistic D = sup |F1 - F2| on two ascending-sorted samples. */
export function ksTwoSample(sortedA: ArrayLike<number>, sortedB: ArrayLike<number>): KsResult {
  const n1 = sortedA.length;
  const n2 = sortedB.length;
  if (n1 === 0 || n2 === 0) throw usage('KS test needs two non-empty samples', { n1, n2 });
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 && j < n2) {
    const x = Math.min(sortedA[i], sortedB[j]);
    while (i < n1 && sortedA[i] <= x) i++;
    while (j < n2 && sortedB[j] <= x) j++;
    d = Math.max(d, Math.abs(i / n1 - j / n2));
  }
  return { d, pValue: ksPValue(d, n1, n2), n1, n2, effectiveN: (n1 * n2) / (n1 + n2), method: 'exact' };
}

/**
 * KS statistic on two histograms: max |F1 - F2| over the union of bucket upper
 * edges. Buckets must share edges where they overlap (the conmig layout is
 * fixed, so any two run histograms do); a lower bound of the samples' D.
 */
export function ksHistograms(a: readonly HistogramBucketRow[], b: readonly HistogramBucketRow[]): KsResult {
  const n1 = histogramCount(a);
  const n2 = histogramCount(b);
  if (n1 === 0 || n2 === 0) throw usage('KS test needs two non-empty histograms', { n1, n2 });
  checkEdges(a, b);
  const edges = [...new Set([...a.map((r) => r.upperMs), ...b.map((r) => r.upperMs)])].sort((x, y) => x - y);
  let i = 0;
  let j = 0;
  let ca = 0;
  let cb = 0;
  let d = 0;
  for (const e of edges) {
    while (i < a.length && a[i].upperMs <= e) ca += a[i++].count;
    while (j < b.length && b[j].upperMs <= e) cb += b[j++].count;
    d = Math.max(d, Math.abs(ca / n1 - cb / n2));
  }
  return {
    d,
    pValue: ksPValue(d, n1, n2),
    n1,
    n2,
    effectiveN: (n1 * n2) / (n1 + n2),
    method: 'histogram-lower-bound',
  };
}

/** Throws RESULT_MISMATCH when a bucket of one histogram straddles an edge of the other. */
function checkEdges(a: readonly HistogramBucketRow[], b: readonly HistogramBucketRow[]): void {
  const edgesB = b.flatMap((r) => [r.lowerMs, r.upperMs]);
  for (const r of a) {
    for (const e of edgesB) {
      if (e > r.lowerMs + 1e-9 && e < r.upperMs - 1e-9) {
        throw new ConmigError('RESULT_MISMATCH', 'histograms have different bucket edges: KS on bucket CDFs needs the same layout', {
          context: { bucket: `[${r.lowerMs}, ${r.upperMs})`, edge: e },
        });
      }
    }
  }
}

/**
 * One-sample KS statistic of sorted samples against a continuous CDF:
 * D = max_i max(i/n - F(x_i), F(x_i) - (i-1)/n); p-value Q(sqrt(n) D).
 */
export function ksOneSample(sorted: ArrayLike<number>, cdf: (x: number) => number): { d: number; pValue: number; n: number } {
  const n = sorted.length;
  if (n === 0) throw usage('KS test needs a non-empty sample', {});
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return { d, pValue: kolmogorovQ(Math.sqrt(n) * d), n };
}
