import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/model/random.ts';
import { createServiceTimeSampler, serviceTimeMeanMs, serviceTimeScv } from '../../src/model/service-time.ts';
import type { ServiceTimeSpec } from '../../src/model/types.ts';

function moments(spec: ServiceTimeSpec, n: number): { mean: number; scv: number } {
  const draw = createServiceTimeSampler(spec, createRng(7, 'service-test'));
  let s = 0;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    ss += x * x;
  }
  const mean = s / n;
  return { mean, scv: (ss / n - mean * mean) / (mean * mean) };
}

describe('service-time samplers', () => {
  it('lognormal matches its mean and sd (moment matching)', () => {
    const spec: ServiceTimeSpec = { kind: 'lognormal', meanMs: 60, sdMs: 15 };
    const m = moments(spec, 50_000);
    expect(m.mean).toBeGreaterThan(59.5);
    expect(m.mean).toBeLessThan(60.5);
    expect(m.scv).toBeCloseTo(serviceTimeScv(spec), 2);
    expect(serviceTimeScv(spec)).toBeCloseTo(0.0625, 12);
  });
  it('exponential has SCV 1 and the right mean', () => {
    const spec: ServiceTimeSpec = { kind: 'exponential', meanMs: 20 };
    const m = moments(spec, 50_000);
    expect(Math.abs(m.mean - 20)).toBeLessThan(0.4);
    expect(Math.abs(m.scv - 1)).toBeLessThan(0.05);
  });
  it('deterministic is constant; empirical picks only given samples, uniformly', () => {
    const det = createServiceTimeSampler({ kind: 'deterministic', valueMs: 12 }, createRng(1, 'x'));
    expect([det(), det(), det()]).toEqual([12, 12, 12]);
    const spec: ServiceTimeSpec = { kind: 'empirical', samplesMs: [10, 20, 30, 40] };
    const draw = createServiceTimeSampler(spec, createRng(1, 'y'));
    const counts = new Map<number, number>();
    for (let i = 0; i < 8000; i++) {
      const x = draw();
      counts.set(x, (counts.get(x) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([10, 20, 30, 40]);
    for (const c of counts.values()) expect(Math.abs(c - 2000)).toBeLessThan(200);
    expect(serviceTimeMeanMs(spec)).toBe(25);
    expect(serviceTimeScv(spec)).toBeCloseTo(125 / 625, 12);
  });
  it('rejects invalid specs', () => {
    expect(() => createServiceTimeSampler({ kind: 'empirical', samplesMs: [] }, createRng(1, 'z'))).toThrow(/empty/);
    expect(() => createServiceTimeSampler({ kind: 'exponential', meanMs: 0 }, createRng(1, 'z'))).toThrow(/meanMs/);
  });
});
