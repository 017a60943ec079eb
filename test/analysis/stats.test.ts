import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  incompleteBeta,
  kolmogorovQ,
  ksHistograms,
  ksOneSample,
  ksTwoSample,
  meanWithTCi,
  normalCdf,
  normalQuantile,
  orderStatisticRanks,
  pairedRelativeErrors,
  percentileFromHistogram,
  percentileFromSamples,
  percentileSorted,
  relativeError,
  sortedCopy,
  studentTCdf,
  studentTQuantile,
} from '../../src/analysis/stats.ts';
import { LatencyHistogram } from '../../src/model/histogram.ts';
import { ConmigError } from '../../src/model/errors.ts';

describe('percentiles', () => {
  it('nearest rank on samples', () => {
    const s = sortedCopy([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
    expect(percentileSorted(s, 0.5)).toBe(5); // ceil(0.5*10) = 5th
    expect(percentileSorted(s, 0.95)).toBe(10); // ceil(9.5) = 10th
    expect(percentileSorted(s, 0.9)).toBe(9);
    expect(percentileSorted(s, 0.91)).toBe(10);
  });

  it('order-statistic CI for the median of 10 is [X(2), X(9)] (coverage 97.9%)', () => {
    // P(B <= 1) = 11/1024 = 0.0107 <= 0.025 < P(B <= 2) = 0.0547 -> l = 2;
    // P(B <= 7) = 0.945 < 0.975 <= P(B <= 8) = 0.989 -> u = 9.
    expect(orderStatisticRanks(10, 0.5)).toEqual({ lowerRank: 2, upperRank: 9, clamped: false });
    const e = percentileFromSamples(sortedCopy([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]), 0.5);
    expect(e.valueMs).toBe(50);
    expect([e.ci.lo, e.ci.hi]).toEqual([20, 90]);
  });

  it('clamps ranks for tiny samples and says so', () => {
    const r = orderStatisticRanks(5, 0.99);
    expect(r.clamped).toBe(true);
    expect(r.upperRank).toBe(5);
  });

  it('normal approximation for large n matches n q +- z sqrt(n q (1-q))', () => {
    // n = 1e6, q = 0.5: sd = 500, z = 1.959964 -> l = floor(500000 - 979.98) = 499020, u = ceil(500979.98) + 1
    const r = orderStatisticRanks(1_000_000, 0.5);
    expect(r.lowerRank).toBe(499020);
    expect(r.upperRank).toBe(500981);
  });

  it('exact ranks cover the quantile with >= 95% (property, checked by the binomial sum)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 400 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), (n, q) => {
        const { lowerRank: l, upperRank: u, clamped } = orderStatisticRanks(n, q);
        if (clamped) return true;
        // coverage = P(l <= B <= u - 1)
        let cov = 0;
        let logC = 0;
        for (let k = 0; k <= n; k++) {
          if (k > 0) logC += Math.log((n - k + 1) / k);
          if (k >= l && k <= u - 1) cov += Math.exp(logC + k * Math.log(q) + (n - k) * Math.log1p(-q));
        }
        return cov >= 0.95 - 1e-9 && l <= nearestRankOf(q, n) && nearestRankOf(q, n) <= u;
      }),
      { numRuns: 60 },
    );
  });

  it('from a histogram: bucket middle, CI widened to whole buckets', () => {
    const rows = [
      { lowerMs: 0, upperMs: 1, count: 2 },
      { lowerMs: 1, upperMs: 2, count: 5 },
      { lowerMs: 2, upperMs: 4, count: 3 },
    ];
    const e = percentileFromHistogram(rows, 0.5); // rank 5 is in [1, 2)
    expect(e.valueMs).toBe(1.5);
    expect([e.ci.lo, e.ci.hi]).toEqual([0, 4]); // ranks 2 and 9
    expect(e.ci.method).toBe('histogram-binomial');
  });

  it('agrees with LatencyHistogram.quantile on the real layout', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 0.37);
    const rows = h.nonEmptyBuckets();
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      expect(percentileFromHistogram(rows, q, 0.95, { minMs: h.min, maxMs: h.max }).valueMs).toBeCloseTo(h.quantile(q), 9);
    }
  });
});

function nearestRankOf(q: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(q * n)));
}

describe('Student t', () => {
  it('quantiles match tables', () => {
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.776445, 5);
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706205, 4);
    expect(studentTQuantile(0.995, 29)).toBeCloseTo(2.756386, 5);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.776445, 5);
    expect(studentTCdf(1.5, 3)).toBeCloseTo(0.884708, 5);
  });

  it('t CI of {1,2,3,4,5}: 3 +- 2.776445 * sqrt(2.5) / sqrt(5) = 3 +- 1.963243', () => {
    const m = meanWithTCi([1, 2, 3, 4, 5]);
    expect(m.mean).toBe(3);
    expect(m.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(m.ci.halfWidth).toBeCloseTo(1.963243, 5);
    expect(m.ci.lo).toBeCloseTo(1.036757, 5);
  });

  it('a single value has no interval width', () => {
    const m = meanWithTCi([7]);
    expect(m.ci.lo).toBe(7);
    expect(Number.isNaN(m.ci.halfWidth)).toBe(true);
  });

  it('normal quantile', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
  });

  // References: mpmath at 40 digits for the exact double inputs (erfinv, ncdf, betainc; t quantiles by findroot on the CDF).
  // The hand-written approximations these replaced were off by up to 1.1e-9 (normal quantile), 1.0e-7 (normal CDF)
  // and 1.9e-8 (t quantile) relative.
  it('distribution functions agree with 40-digit references to 1e-13 relative, far tails included', () => {
    const close = (got: number, want: number): void => expect(Math.abs(got - want) / Math.abs(want), `${got} vs ${want}`).toBeLessThan(1e-13);
    close(normalQuantile(1e-12), -7.0344838253011319326);
    close(normalQuantile(1e-6), -4.7534243088228989573);
    close(normalQuantile(0.025), -1.9599639845400542118);
    close(normalQuantile(0.975), 1.9599639845400538556);
    close(normalQuantile(0.999999), 4.7534243088170877657);
    close(normalCdf(-8), 6.2209605742717841235e-16);
    close(normalCdf(-3), 0.0013498980316300945267);
    close(normalCdf(0.5), 0.69146246127401310364);
    close(normalCdf(6), 0.99999999901341235496);
    close(studentTQuantile(0.975, 1), 12.706204736174693314);
    close(studentTQuantile(0.975, 4), 2.7764451051977934898);
    close(studentTQuantile(0.995, 29), 2.7563859036706051204);
    close(studentTQuantile(0.9995, 1000), 3.3002826484239441558);
    close(studentTQuantile(0.6, 3), 0.27667066233268984701);
    close(studentTCdf(1.5, 3), 0.88470806737758847386);
    close(studentTCdf(-8.2, 100), 4.21261443195406961e-13);
    close(incompleteBeta(0.11, 50, 50), 2.2241515693351175313e-22);
    close(incompleteBeta(0.3, 0.5, 2), 0.73942545263197424253);
  });
});

describe('Kolmogorov-Smirnov', () => {
  it('D for {1,2,3} vs {2,3,4} is 1/3; p = Q(sqrt(1.5)/3) = 0.996255', () => {
    const r = ksTwoSample([1, 2, 3], [2, 3, 4]);
    expect(r.d).toBeCloseTo(1 / 3, 12);
    expect(r.effectiveN).toBe(1.5);
    expect(r.pValue).toBeCloseTo(0.996255, 5);
    expect(r.method).toBe('exact');
  });

  it('Q(1) = 0.2699997', () => {
    expect(kolmogorovQ(1)).toBeCloseTo(0.2699997, 6);
    expect(kolmogorovQ(0)).toBe(1);
  });

  it('disjoint samples give D = 1; identical give D = 0 and p = 1', () => {
    expect(ksTwoSample([1, 2], [3, 4, 5]).d).toBe(1);
    const same = ksTwoSample([1, 2, 2, 3], [1, 2, 2, 3]);
    expect(same.d).toBe(0);
    expect(same.pValue).toBe(1);
  });

  it('D is symmetric and in [0, 1] (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 30 }),
        (a, b) => {
          const sa = sortedCopy(a);
          const sb = sortedCopy(b);
          const d1 = ksTwoSample(sa, sb).d;
          return d1 === ksTwoSample(sb, sa).d && d1 >= 0 && d1 <= 1;
        },
      ),
      { numRuns: 100 },
    );
  });

  it('on histograms: D over bucket edges (0.5 vs 0.2 at edge 1 -> 0.3), a lower bound of the sample D', () => {
    const a = [
      { lowerMs: 0, upperMs: 1, count: 5 },
      { lowerMs: 1, upperMs: 2, count: 5 },
    ];
    const b = [
      { lowerMs: 0, upperMs: 1, count: 2 },
      { lowerMs: 1, upperMs: 2, count: 8 },
    ];
    const r = ksHistograms(a, b);
    expect(r.d).toBeCloseTo(0.3, 12);
    expect(r.method).toBe('histogram-lower-bound');
    // Samples that fill those buckets can have a larger D, never a smaller one.
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 19.99, noNaN: true }), { minLength: 1, maxLength: 50 }), fc.array(fc.double({ min: 0, max: 19.99, noNaN: true }), { minLength: 1, maxLength: 50 }), (xa, xb) => {
        const ha = new LatencyHistogram();
        const hb = new LatencyHistogram();
        xa.forEach((x) => ha.record(x));
        xb.forEach((x) => hb.record(x));
        const dh = ksHistograms(ha.nonEmptyBuckets(), hb.nonEmptyBuckets()).d;
        return dh <= ksTwoSample(sortedCopy(xa), sortedCopy(xb)).d + 1e-12;
      }),
      { numRuns: 50 },
    );
  });

  it('histograms with straddling buckets are refused', () => {
    expect(() => ksHistograms([{ lowerMs: 0, upperMs: 2, count: 1 }], [{ lowerMs: 1, upperMs: 3, count: 1 }])).toThrow(ConmigError);
  });

  it('one-sample D against the uniform CDF', () => {
    // x = 0.1, 0.5, 0.9; F = x: max(1/3-0.1, 0.1-0, 2/3-0.5, 0.5-1/3, 1-0.9, 0.9-2/3) = 0.2333
    const r = ksOneSample([0.1, 0.5, 0.9], (x) => x);
    expect(r.d).toBeCloseTo(0.9 - 2 / 3, 12);
  });
});

describe('relative errors', () => {
  it('signed, against |reference|', () => {
    expect(relativeError(110, 100)).toBeCloseTo(0.1, 12);
    expect(relativeError(77, 100)).toBeCloseTo(-0.23, 12);
    expect(relativeError(0, 0)).toBe(0);
    expect(Number.isNaN(relativeError(1, 0))).toBe(true);
  });

  it('mean and worst of paired downtimes', () => {
    const e = pairedRelativeErrors([110, 90, 100, 130], [100, 100, 100, 100]);
    expect(e.meanAbsRel).toBeCloseTo((0.1 + 0.1 + 0 + 0.3) / 4, 12);
    expect(e.worstAbsRel).toBeCloseTo(0.3, 12);
    expect(e.worstIndex).toBe(3);
    expect(e.meanRel).toBeCloseTo(0.3 / 4, 12);
  });
});

describe('order-statistic ranks for large n', () => {
  it('exact walk near q = 1 agrees with the normal approximation and is fast', () => {
    // n = 1e6, q = 0.99: sd = sqrt(9900) = 99.5; normal: 990000 -+ 1.96 * 99.5 = 989805 .. 990195
    const t0 = Date.now();
    const r = orderStatisticRanks(1_000_000, 0.99);
    expect(Date.now() - t0).toBeLessThan(200);
    expect(Math.abs(r.lowerRank - 989805)).toBeLessThanOrEqual(3);
    expect(Math.abs(r.upperRank - 990196)).toBeLessThanOrEqual(3);
  });
});
