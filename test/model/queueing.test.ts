import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  erlangC,
  mgcMeanResponseMs,
  mgcMeanWaitMs,
  mm1MeanResponseMs,
  mmcMeanResponseMs,
  mmcMeanWaitMs,
} from '../../src/model/queueing.ts';

describe('queueing formulas', () => {
  it('M/M/1 with λ = 0.5, μ = 1 has W = 2', () => {
    expect(mm1MeanResponseMs(0.5, 1)).toBeCloseTo(2, 12);
    expect(mmcMeanResponseMs(1, 0.5, 1)).toBeCloseTo(2, 12);
  });
  it('Erlang C: c = 2, a = 1 gives 1/3; c = 1 gives ρ', () => {
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
    expect(erlangC(1, 0.7)).toBeCloseTo(0.7, 12);
  });
  it('M/M/2, λ = 1/ms, S = 1 ms: Wq = C/(c − a) = 1/3 ms', () => {
    expect(mmcMeanWaitMs(2, 1, 1)).toBeCloseTo(1 / 3, 12);
    expect(mmcMeanResponseMs(2, 1, 1)).toBeCloseTo(4 / 3, 12);
  });
  it('Allen–Cunneen: deterministic service halves the M/M/c wait; exponential equals it', () => {
    expect(mgcMeanWaitMs(2, 1, 1, 0)).toBeCloseTo(1 / 6, 12);
    expect(mgcMeanWaitMs(2, 1, 1, 1)).toBeCloseTo(1 / 3, 12);
    expect(mgcMeanResponseMs(1, 0.5, 1, 0)).toBeCloseTo(1.5, 12); // M/D/1 Pollaczek–Khinchine: exact
  });
  it('is Infinity at or above saturation and 0 without load', () => {
    expect(mm1MeanResponseMs(1, 1)).toBe(Infinity);
    expect(mmcMeanWaitMs(4, 1, 4)).toBe(Infinity);
    expect(mgcMeanResponseMs(2, 3, 1, 0.5)).toBe(Infinity);
    expect(erlangC(3, 5)).toBe(1);
    expect(mmcMeanWaitMs(3, 0, 10)).toBe(0);
  });
  it('is stable for many servers and rejects non-integer server counts', () => {
    const p = erlangC(500, 480);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
    expect(() => erlangC(1.5, 1)).toThrow(/positive integer/);
  });
  it('property: waiting probability and wait grow with load', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.double({ min: 0.01, max: 0.98, noNaN: true }), fc.double({ min: 0.01, max: 0.98, noNaN: true }), (c, r1, r2) => {
        const [lo, hi] = r1 < r2 ? [r1, r2] : [r2, r1];
        expect(erlangC(c, hi * c)).toBeGreaterThanOrEqual(erlangC(c, lo * c) - 1e-12);
        expect(mmcMeanWaitMs(c, hi * c, 1)).toBeGreaterThanOrEqual(mmcMeanWaitMs(c, lo * c, 1) - 1e-12);
      }),
      { numRuns: 200 },
    );
  });
});
