import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_MIGRATION_COST,
  checkpointMs,
  estimateMigration,
  mibToMegabits,
  restoreMs,
  transferMs,
  type MigrationInput,
} from '../../src/model/migration-cost.ts';
import type { MigrationMode } from '../../src/model/types.ts';

const cost = DEFAULT_MIGRATION_COST;
const base: MigrationInput = {
  memoryMiB: 128,
  imageMiB: 50,
  dirtyRateMiBps: 5,
  mode: 'cold',
  bandwidthMbps: 1000,
  pathLatencyMs: 2,
  cost,
};

describe('phase functions', () => {
  it('converts MiB to Mbit exactly', () => {
    expect(mibToMegabits(1)).toBeCloseTo(8.388608, 12);
  });
  it('matches ReSync (2025): ~124 MB checkpoints in ~0.21 s, restores in ~0.18 s (within 10%)', () => {
    for (const mib of [124e6 / 2 ** 20, 124]) {
      expect(Math.abs(checkpointMs(mib, cost) - 210) / 210).toBeLessThan(0.1);
      expect(Math.abs(restoreMs(mib, cost) - 180) / 180).toBeLessThan(0.1);
    }
  });
  it('transfer = one path RTT + data at efficiency * bandwidth, nothing for 0 MiB', () => {
    expect(transferMs(100, 1000, 5, cost)).toBeCloseTo(10 + (838.8608 / 900) * 1000, 9);
    expect(transferMs(0, 1000, 5, cost)).toBe(0);
  });
  it('a fixed start-up per transfer (transferBaseMs) adds to every transfer that sends something', () => {
    const withBase = { ...cost, transferBaseMs: 250 };
    expect(transferMs(100, 1000, 5, withBase) - transferMs(100, 1000, 5, cost)).toBeCloseTo(250, 9);
    expect(transferMs(0, 1000, 5, withBase)).toBe(0);
    expect(estimateMigration({ ...base, cost: withBase }).downtimeMs - estimateMigration(base).downtimeMs).toBeCloseTo(250, 9);
  });
});

describe('estimateMigration', () => {
  it('cold: downtime = checkpoint + transfer(mem + image) + restore; image counted when not cached', () => {
    const uncached = { ...cost, imageCached: false };
    const e = estimateMigration({ ...base, cost: uncached });
    expect(e.downtimeMs).toBeCloseTo(checkpointMs(128, cost) + transferMs(178, 1000, 2, cost) + restoreMs(128, cost), 9);
    expect(e.totalMs).toBe(e.downtimeMs);
    expect(e.bytes).toBe(178 * 2 ** 20);
    expect(estimateMigration(base).bytes).toBe(128 * 2 ** 20);
  });
  it('pre-copy converges with a low dirty rate and has a much shorter downtime than cold', () => {
    const e = estimateMigration({ ...base, mode: 'precopy' });
    expect(e.converged).toBe(true);
    expect(e.phases.precopyRounds).toBeGreaterThanOrEqual(1);
    expect(e.downtimeMs).toBeLessThan(estimateMigration(base).downtimeMs);
    // restore still maps all memory
    expect(e.phases.restoreMs).toBe(restoreMs(128, cost));
  });
  it('pre-copy does not converge when the dirty rate exceeds the goodput', () => {
    const e = estimateMigration({ ...base, mode: 'precopy', dirtyRateMiBps: 500, bandwidthMbps: 100 });
    expect(e.converged).toBe(false);
    expect(e.phases.precopyRounds).toBe(1);
  });
  it('post-copy: downtime moves only the process state; memory streams afterwards', () => {
    const e = estimateMigration({ ...base, mode: 'postcopy' });
    expect(e.downtimeMs).toBeCloseTo(checkpointMs(2, cost) + transferMs(2, 1000, 2, cost) + restoreMs(2, cost), 9);
    expect(e.phases.lazyPagesMs).toBeCloseTo(transferMs(128, 1000, 2, cost), 9);
    expect(e.totalMs).toBeCloseTo(e.downtimeMs + e.phases.lazyPagesMs, 9);
  });
  it('busybox cold migration is far below Ma et al. (TMC 2019) Docker figures (7.5 s / 3.5 s at 600 Mbit/s)', () => {
    const e = estimateMigration({
      ...base,
      memoryMiB: 4,
      imageMiB: 1.2,
      bandwidthMbps: 600,
      cost: { ...cost, imageCached: false },
    });
    expect(e.downtimeMs).toBeLessThan(3500 / 5);
    expect(e.totalMs).toBeLessThan(7500 / 10);
  });
});

describe('properties', () => {
  const mem = fc.double({ min: 1, max: 8192, noNaN: true });
  const bw = fc.double({ min: 10, max: 100_000, noNaN: true });
  const arbInput = fc.record({
    memoryMiB: mem,
    imageMiB: fc.double({ min: 0, max: 2000, noNaN: true }),
    dirtyRateMiBps: fc.double({ min: 0, max: 500, noNaN: true }),
    mode: fc.constantFrom<MigrationMode>('cold', 'precopy', 'postcopy'),
    bandwidthMbps: bw,
    pathLatencyMs: fc.double({ min: 0, max: 50, noNaN: true }),
    imageCached: fc.boolean(),
  });
  const toInput = (r: { imageCached: boolean } & Omit<MigrationInput, 'cost'>): MigrationInput => ({
    ...r,
    cost: { ...cost, imageCached: r.imageCached },
  });
  const eps = 1e-9;

  it('cold and post-copy: downtime and total non-decreasing in memory, non-increasing in bandwidth', () => {
    fc.assert(
      fc.property(arbInput, mem, bw, (r, mem2, bw2) => {
        if (r.mode === 'precopy') return;
        const a = estimateMigration(toInput(r));
        const more = estimateMigration(toInput({ ...r, memoryMiB: Math.max(r.memoryMiB, mem2) }));
        expect(more.downtimeMs).toBeGreaterThanOrEqual(a.downtimeMs - eps);
        expect(more.totalMs).toBeGreaterThanOrEqual(a.totalMs - eps);
        const faster = estimateMigration(toInput({ ...r, bandwidthMbps: Math.max(r.bandwidthMbps, bw2) }));
        expect(faster.downtimeMs).toBeLessThanOrEqual(a.downtimeMs + eps);
        expect(faster.totalMs).toBeLessThanOrEqual(a.totalMs + eps);
      }),
      { numRuns: 300 },
    );
  });

  it('pre-copy with a clean memory (dirty rate 0) is monotone too', () => {
    fc.assert(
      fc.property(arbInput, mem, (r, mem2) => {
        const x = { ...r, mode: 'precopy' as const, dirtyRateMiBps: 0 };
        const a = estimateMigration(toInput(x));
        const more = estimateMigration(toInput({ ...x, memoryMiB: Math.max(r.memoryMiB, mem2) }));
        expect(more.downtimeMs).toBeGreaterThanOrEqual(a.downtimeMs - eps);
        expect(more.totalMs).toBeGreaterThanOrEqual(a.totalMs - eps);
      }),
      { numRuns: 200 },
    );
  });

  it('post-copy downtime does not depend on memory', () => {
    fc.assert(
      fc.property(arbInput, mem, (r, mem2) => {
        const x = { ...r, mode: 'postcopy' as const };
        expect(estimateMigration(toInput({ ...x, memoryMiB: mem2 })).downtimeMs).toBe(estimateMigration(toInput(x)).downtimeMs);
      }),
      { numRuns: 200 },
    );
  });

  it('pre-copy downtime <= cold downtime when the dirty rate is small relative to bandwidth', () => {
    fc.assert(
      fc.property(arbInput, (r) => {
        const goodputMiBps = (r.bandwidthMbps * cost.transferEfficiency) / 8.388608;
        const x = { ...r, dirtyRateMiBps: Math.min(r.dirtyRateMiBps, goodputMiBps / 4) };
        const pre = estimateMigration(toInput({ ...x, mode: 'precopy' }));
        const cold = estimateMigration(toInput({ ...x, mode: 'cold' }));
        expect(pre.downtimeMs).toBeLessThanOrEqual(cold.downtimeMs + eps);
      }),
      { numRuns: 300 },
    );
  });

  it('total >= downtime; bytes >= memory (cold and the others); every estimate finite and positive', () => {
    fc.assert(
      fc.property(arbInput, (r) => {
        const e = estimateMigration(toInput(r));
        expect(e.totalMs).toBeGreaterThanOrEqual(e.downtimeMs);
        expect(e.downtimeMs).toBeGreaterThan(0);
        expect(Number.isFinite(e.totalMs)).toBe(true);
        // Every mode moves the whole memory at least once.
        expect(e.bytes).toBeGreaterThanOrEqual(r.memoryMiB * 2 ** 20 - 1e-3);
      }),
      { numRuns: 300 },
    );
  });
});
