/** The simulator plays the streamed cold variant and post-copy's lazy fetch as the cost model says. */
import { describe, expect, it } from 'vitest';
import { estimateMigration } from '../../src/model/migration-cost.ts';
import type { MigrationCostParams, MigrationMode } from '../../src/model/types.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { makeScenario, moveOncePolicy, pushAllPolicy } from './helpers.ts';

const MBIT_PER_MIB = 8.388608;

describe('streamed (disk-less) cold migration in the simulator', () => {
  it.each([
    { label: 'link-limited', linkMbps: 100, cost: {} },
    { label: 'dump-limited', linkMbps: 10_000, cost: {} },
    { label: 'start-up, uncached image', linkMbps: 1000, cost: { transferBaseMs: 250, imageCached: false } },
    { label: 'post-copy, own lazy efficiency', linkMbps: 1000, cost: { lazyPagesEfficiency: 0.5 }, mode: 'postcopy' as const },
  ])('uncontended ($label): phases, downtime and total as estimateMigration', ({ linkMbps, cost, mode }: { linkMbps: number; cost: Partial<MigrationCostParams>; mode?: MigrationMode }) => {
    const s = makeScenario({
      nodes: 3, ratePerS: 0, durationS: 120, linkMbps, containerMemoryMiB: 256, imageMiB: 100,
      migrationMode: mode ?? 'cold', cost: { coldTransport: 'stream', ...cost },
    });
    const r = simulate(s, moveOncePolicy('c0', 'n2', 5), 1);
    expect(r.migrations).toHaveLength(1);
    const m = r.migrations[0];
    const est = estimateMigration({ memoryMiB: 256, imageMiB: 100, dirtyRateMiBps: 2, mode: mode ?? 'cold', bandwidthMbps: linkMbps, pathLatencyMs: 2, cost: s.migration.cost });
    expect(m.status).toBe('ok');
    for (const k of ['checkpointMs', 'transferMs', 'restoreMs', 'lazyPagesMs'] as const) expect(Math.abs(m[k] - est.phases[k])).toBeLessThan(1);
    expect(Math.abs(m.downtimeMs - est.downtimeMs)).toBeLessThan(1);
    expect(Math.abs(m.totalMs - est.totalMs)).toBeLessThan(1);
    expect(Math.abs(m.bytes / est.bytes - 1)).toBeLessThan(1e-5);
    expect(m.transport).toBe(mode === 'postcopy' ? undefined : 'stream');
    if (mode !== 'postcopy') expect(m.downtimeMs).toBeCloseTo(Math.max(m.checkpointMs, m.transferMs) + m.restoreMs, 3);
  });

  it('the downtime saved against the disk path is the overlapped dump (hand-computed at 1 Gbit/s)', () => {
    const run = (coldTransport: 'disk' | 'stream'): number =>
      simulate(makeScenario({ nodes: 2, ratePerS: 0, durationS: 60, containerMemoryMiB: 256, cost: { coldTransport } }), moveOncePolicy('c0', 'n1', 5), 1).migrations[0].downtimeMs;
    const cp = 40 + 1.44 * 256;
    const wire = ((256 * MBIT_PER_MIB) / (0.9 * 1000)) * 1000;
    // disk: cp + (2 l + wire) + rs; stream: max(cp, max(2 l, 40) + wire) + rs; l = 1 ms
    expect(run('disk') - run('stream')).toBeCloseTo(cp + 2 + wire - Math.max(cp, 40 + wire), 0);
  });

  it('concurrent streamed migrations share the link: the transfer, not the dump, sets the pace', () => {
    const s = makeScenario({ nodes: 2, containers: 3, users: 3, ratePerS: 0, durationS: 120, linkMbps: 100, cost: { coldTransport: 'stream' } });
    const r = simulate(s, pushAllPolicy('n1', false), 1);
    expect(r.migrations).toHaveLength(3);
    const wire = ((128 * MBIT_PER_MIB) / (0.9 * 100)) * 1000;
    // three equal flows from max(2 ms, 40 ms) after the freeze, each at a third of the link
    for (const m of r.migrations) expect(m.transferMs).toBeCloseTo(40 + 3 * wire, 0);
  });
});

describe('post-copy memory', () => {
  it('the source keeps the container\'s memory until the last page has arrived, then frees it', () => {
    // 512 MiB over 100 Mbit/s: ~48 s of lazy pages after a ~0.2 s stop at 5 s.
    const s = makeScenario({ nodes: 2, ratePerS: 0, durationS: 100, metricsWindowS: 5, reportIntervalS: 5, linkMbps: 100, containerMemoryMiB: 512, migrationMode: 'postcopy' });
    const r = simulate(s, moveOncePolicy('c0', 'n1', 5), 1);
    const m = r.migrations[0];
    const lazyFromS = m.startS + (m.totalMs - m.lazyPagesMs) / 1000;
    const endS = m.startS + m.totalMs / 1000;
    expect(m.lazyPagesMs).toBeGreaterThan(40_000);
    const rows = (node: string, from: number, to: number) =>
      r.nodeLoad.filter((x) => x.nodeId === node && x.windowStartS >= from && x.windowStartS + 5 <= to);
    const during = rows('n0', Math.ceil(lazyFromS), endS);
    expect(during.length).toBeGreaterThan(5);
    // no container serves at n0 any more, but its memory is still there
    expect(during.every((x) => x.containers === 0 && x.memoryUsedMiB === 512)).toBe(true);
    const after = rows('n0', Math.ceil(endS) + 5, 100);
    expect(after.length).toBeGreaterThan(3);
    expect(after.every((x) => x.memoryUsedMiB === 0)).toBe(true);
    expect(rows('n1', Math.ceil(lazyFromS), 100).every((x) => x.memoryUsedMiB === 512 && x.containers === 1)).toBe(true);
  });
});

describe('restore stall (restoreStallProbability, restoreStallMs)', () => {
  const run = (cost: Partial<MigrationCostParams>, containers = 1, seed = 1) =>
    simulate(makeScenario({ nodes: 2, containers, users: containers, ratePerS: 0, durationS: 120, containerMemoryMiB: 128, cost }), pushAllPolicy('n1', false), seed).migrations;

  it('with probability 1 every downtime (and restore phase) is longer by exactly restoreStallMs', () => {
    const base = run({})[0];
    const stalled = run({ restoreStallProbability: 1, restoreStallMs: 3500 })[0];
    expect(stalled.downtimeMs - base.downtimeMs).toBeCloseTo(3500, 6);
    expect(stalled.restoreMs - base.restoreMs).toBeCloseTo(3500, 6);
    expect(stalled.checkpointMs).toBe(base.checkpointMs);
    // the model's downtime is still its phases
    expect(stalled.downtimeMs).toBeCloseTo(stalled.checkpointMs + stalled.transferMs + stalled.restoreMs, 6);
  });

  it('with probability 0 (or no stall length) nothing moves', () => {
    expect(run({ restoreStallProbability: 0, restoreStallMs: 3500 })).toEqual(run({}));
    expect(run({ restoreStallProbability: 0.5 })).toEqual(run({}));
  });

  it('stalls a fraction of the migrations close to the probability (binomial, 3 sd)', () => {
    const p = 0.3;
    const base = run({}, 200)[0].restoreMs;
    // 200 containers pushed to n1: the controller admits some of them (64 here), each once
    const ms = run({ restoreStallProbability: p, restoreStallMs: 1000 }, 200);
    const n = ms.length;
    expect(n).toBeGreaterThanOrEqual(50);
    const k = ms.filter((m) => m.restoreMs > base + 999).length;
    expect(ms.every((m) => Math.abs(m.restoreMs - base) < 1e-6 || Math.abs(m.restoreMs - base - 1000) < 1e-6)).toBe(true);
    expect(Math.abs(k / n - p)).toBeLessThan(3 * Math.sqrt((p * (1 - p)) / n));
  });
});
