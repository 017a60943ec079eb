/**
 * Streaming response-time histogram (pure; the simulator's hot path).
 *
 * Log-linear buckets in the style of HdrHistogram, over integer "units" of
 * 0.01 ms (u = floor(ms * 100)):
 *   - u < 128 (below 1.28 ms): one bucket per unit, i.e. 0.01 ms wide;
 *   - above: each power-of-two octave [2^k, 2^(k+1)) units is split into 64
 *     equal buckets, so a bucket is at most 1/64 of its lower bound wide.
 * Covered range: 0 .. 10^7 ms. Values below 0 (and NaN-free values below the
 * first bucket) land in bucket 0; values above 10^7 ms are clamped into the
 * top bucket and counted in `clampedHigh` (negative ones in `clampedLow`).
 *
 * Accuracy of `quantile` (for values inside the covered range): the returned
 * value is the middle of the bucket that holds the nearest-rank sample,
 * clamped to [min, max], so it differs from the exact nearest-rank quantile v
 * by at most max(0.005 ms, v / 128) — i.e. 0.01 ms resolution at the bottom and
 * relative error <= 0.79% (< 1%) above 0.64 ms.
 *
 * Costs: record/recordN O(1), no allocation (one multiply, a compare, clz32
 * and a typed-array increment); quantile/fractionAbove/nonEmptyBuckets
 * O(buckets) = O(1600); merge O(buckets). count, sum, min and max are exact.
 * Deterministic: the same inputs in the same order give bit-identical results
 * (sum is a plain left-to-right float addition).
 */
import { ConmigError } from './errors.ts';
import type { HistogramBucketRow, LatencySummary } from './results.ts';

/** Bucket resolution at the bottom of the range. */
export const HISTOGRAM_UNIT_MS = 0.01;
/** Largest value kept as is; larger values are clamped into the top bucket. */
export const HISTOGRAM_MAX_MS = 1e7;
/** Guaranteed quantile error bound: max(HISTOGRAM_ABS_ERROR_MS, v * HISTOGRAM_REL_ERROR). */
export const HISTOGRAM_ABS_ERROR_MS = 0.005;
export const HISTOGRAM_REL_ERROR = 1 / 128;

const UNITS_PER_MS = 100;
const SUB_BITS = 6; // 64 sub-buckets per octave
const SUB_COUNT = 1 << SUB_BITS;
const LINEAR_BUCKETS = 2 * SUB_COUNT; // 128 buckets of one unit
const FIRST_LOG_EXP = 7; // 2^7 = 128 units
const MAX_UNITS = HISTOGRAM_MAX_MS * UNITS_PER_MS; // 1e9 < 2^30
const LAST_LOG_EXP = 29; // floor(log2(1e9))
const BUCKET_COUNT = LINEAR_BUCKETS + (LAST_LOG_EXP - FIRST_LOG_EXP + 1) * SUB_COUNT;

/** Index of the bucket holding a value of `units` (0 <= units <= MAX_UNITS). */
function bucketIndex(units: number): number {
  if (units < LINEAR_BUCKETS) return units | 0;
  const u = units >>> 0; // floor; bucket bounds above 128 units are integers
  const exp = 31 - Math.clz32(u);
  const sub = (u >>> (exp - SUB_BITS)) - SUB_COUNT;
  return LINEAR_BUCKETS + (exp - FIRST_LOG_EXP) * SUB_COUNT + sub;
}

function bucketLowerUnits(index: number): number {
  if (index < LINEAR_BUCKETS) return index;
  const j = index - LINEAR_BUCKETS;
  const exp = FIRST_LOG_EXP + (j >> SUB_BITS);
  return (SUB_COUNT + (j & (SUB_COUNT - 1))) * 2 ** (exp - SUB_BITS);
}

function bucketUpperUnits(index: number): number {
  if (index < LINEAR_BUCKETS) return index + 1;
  const j = index - LINEAR_BUCKETS;
  const exp = FIRST_LOG_EXP + (j >> SUB_BITS);
  return (SUB_COUNT + (j & (SUB_COUNT - 1)) + 1) * 2 ** (exp - SUB_BITS);
}

/** Bucket bounds in ms; exact decimal fractions of 0.01 ms (printed shortest by JS). */
export function bucketBoundsMs(index: number): { lowerMs: number; upperMs: number } {
  return {
    lowerMs: bucketLowerUnits(index) / UNITS_PER_MS,
    upperMs: bucketUpperUnits(index) / UNITS_PER_MS,
  };
}

export class LatencyHistogram {
  /** Number of buckets (fixed for the whole layout). */
  static readonly bucketCount = BUCKET_COUNT;

  private readonly counts = new Float64Array(BUCKET_COUNT);
  private n = 0;
  private sumMs = 0;
  private minMs = Infinity;
  private maxMs = -Infinity;
  private lowClamped = 0;
  private highClamped = 0;

  /** Record one response time. Throws on NaN (a bug upstream). */
  record(ms: number): void {
    let units = ms * UNITS_PER_MS;
    if (!(units >= 0)) {
      if (units !== units) throw nanError(ms);
      units = 0;
      this.lowClamped++;
    } else if (units > MAX_UNITS) {
      units = MAX_UNITS;
      this.highClamped++;
    }
    this.counts[bucketIndex(units)]++;
    this.n++;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Record the same value `n` times (n a non-negative integer). */
  recordN(ms: number, n: number): void {
    if (n === 0) return;
    if (!(n > 0) || !Number.isInteger(n)) {
      throw new ConmigError('SIM_INVARIANT', `histogram recordN: count must be a positive integer, got ${n}`, {
        context: { ms, n },
      });
    }
    let units = ms * UNITS_PER_MS;
    if (!(units >= 0)) {
      if (units !== units) throw nanError(ms);
      units = 0;
      this.lowClamped += n;
    } else if (units > MAX_UNITS) {
      units = MAX_UNITS;
      this.highClamped += n;
    }
    this.counts[bucketIndex(units)] += n;
    this.n += n;
    this.sumMs += ms * n;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  get count(): number {
    return this.n;
  }
  get sum(): number {
    return this.sumMs;
  }
  /** NaN when empty. */
  get mean(): number {
    return this.n === 0 ? NaN : this.sumMs / this.n;
  }
  /** Exact smallest recorded value; NaN when empty. */
  get min(): number {
    return this.n === 0 ? NaN : this.minMs;
  }
  /** Exact largest recorded value; NaN when empty. */
  get max(): number {
    return this.n === 0 ? NaN : this.maxMs;
  }
  /** Values below 0 ms, recorded into the first bucket. */
  get clampedLow(): number {
    return this.lowClamped;
  }
  /** Values above HISTOGRAM_MAX_MS, recorded into the top bucket. */
  get clampedHigh(): number {
    return this.highClamped;
  }

  /**
   * Nearest-rank quantile: the representative value of the bucket holding the
   * ceil(q * count)-th smallest sample. q = 0 gives the exact min, q = 1 the
   * exact max; NaN when empty. Throws on q outside [0, 1].
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) {
      throw new ConmigError('SIM_INVARIANT', `histogram quantile: q must be in [0, 1], got ${q}`, {
        context: { q },
      });
    }
    if (this.n === 0) return NaN;
    if (q === 0) return this.minMs;
    if (q === 1) return this.maxMs;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i];
      if (seen >= rank) return this.representative(i);
    }
    return this.maxMs;
  }

  /**
   * Fraction of recorded values strictly above `ms` (e.g. the QoS violation
   * rate). Exact when `ms` is outside [min, max) or on a bucket bound; inside a
   * bucket the bucket's count is split assuming values are spread evenly.
   * NaN when empty.
   */
  fractionAbove(ms: number): number {
    if (this.n === 0) return NaN;
    if (ms < this.minMs) return 1;
    if (ms >= this.maxMs) return 0;
    const units = Math.min(Math.max(ms * UNITS_PER_MS, 0), MAX_UNITS);
    const at = bucketIndex(units);
    let above = 0;
    for (let i = at + 1; i < BUCKET_COUNT; i++) above += this.counts[i];
    const c = this.counts[at];
    if (c > 0) {
      const lo = Math.max(bucketLowerUnits(at), this.minMs * UNITS_PER_MS);
      const hi = Math.min(bucketUpperUnits(at), this.maxMs * UNITS_PER_MS);
      if (hi > lo) above += (c * Math.min(Math.max(hi - units, 0), hi - lo)) / (hi - lo);
    }
    return above / this.n;
  }

  /** Add another histogram's counts into this one. */
  merge(other: LatencyHistogram): void {
    if (other.n === 0) return;
    const a = this.counts;
    const b = other.counts;
    for (let i = 0; i < BUCKET_COUNT; i++) a[i] += b[i];
    this.n += other.n;
    this.sumMs += other.sumMs;
    if (other.minMs < this.minMs) this.minMs = other.minMs;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
    this.lowClamped += other.lowClamped;
    this.highClamped += other.highClamped;
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.sumMs = 0;
    this.minMs = Infinity;
    this.maxMs = -Infinity;
    this.lowClamped = 0;
    this.highClamped = 0;
  }

  /** A deep copy. */
  clone(): LatencyHistogram {
    const h = new LatencyHistogram();
    h.merge(this);
    return h;
  }

  /** Non-empty buckets in increasing order, bounds in ms (the latency-hist.csv rows). */
  nonEmptyBuckets(): HistogramBucketRow[] {
    const rows: HistogramBucketRow[] = [];
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const c = this.counts[i];
      if (c > 0) rows.push({ ...bucketBoundsMs(i), count: c });
    }
    return rows;
  }

  /**
   * Rebuild a histogram from bucket rows (as written by nonEmptyBuckets). Rows
   * must match this layout's bounds. count is exact; min/max/mean are taken
   * from `exact` when given (e.g. from summary.json), otherwise min = lower
   * bound of the first bucket, max = upper bound of the last, sum from bucket
   * middles.
   */
  static fromBuckets(
    rows: readonly HistogramBucketRow[],
    exact?: { minMs: number; maxMs: number; meanMs: number },
  ): LatencyHistogram {
    const h = new LatencyHistogram();
    rows.forEach((row, i) => {
      if (!(row.count >= 0) || !Number.isInteger(row.count)) {
        throw new ConmigError('RESULT_INVALID', `histogram row ${i}: count must be a non-negative integer`, {
          context: { row: i, ...row },
        });
      }
      if (row.count === 0) return;
      const mid = ((row.lowerMs + row.upperMs) / 2) * UNITS_PER_MS;
      const idx = mid >= 0 ? bucketIndex(Math.min(mid, MAX_UNITS)) : -1;
      const b = idx >= 0 ? bucketBoundsMs(idx) : undefined;
      if (!b || !closeTo(b.lowerMs, row.lowerMs) || !closeTo(b.upperMs, row.upperMs)) {
        throw new ConmigError(
          'RESULT_INVALID',
          `histogram row ${i}: bounds [${row.lowerMs}, ${row.upperMs}) are not a bucket of the conmig histogram layout`,
          { context: { row: i, ...row } },
        );
      }
      h.counts[idx] += row.count;
      h.n += row.count;
      h.sumMs += ((b.lowerMs + b.upperMs) / 2) * row.count;
      if (b.lowerMs < h.minMs) h.minMs = b.lowerMs;
      if (b.upperMs > h.maxMs) h.maxMs = b.upperMs;
    });
    if (exact && h.n > 0) {
      h.minMs = exact.minMs;
      h.maxMs = exact.maxMs;
      h.sumMs = exact.meanMs * h.n;
    }
    return h;
  }

  private representative(index: number): number {
    const mid = (bucketLowerUnits(index) + bucketUpperUnits(index)) / 2 / UNITS_PER_MS;
    return mid < this.minMs ? this.minMs : mid > this.maxMs ? this.maxMs : mid;
  }
}

function closeTo(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
}

function nanError(ms: number): ConmigError {
  return new ConmigError('SIM_INVARIANT', 'histogram: cannot record NaN', { context: { ms } });
}

/** The summary figures of a histogram, as RunSummary.responseMs reports them. */
export function latencySummary(h: LatencyHistogram): LatencySummary {
  return {
    count: h.count,
    meanMs: h.mean,
    minMs: h.min,
    p50Ms: h.quantile(0.5),
    p90Ms: h.quantile(0.9),
    p95Ms: h.quantile(0.95),
    p99Ms: h.quantile(0.99),
    maxMs: h.max,
  };
}
