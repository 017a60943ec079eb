/**
 * The streamed (disk-less) cold variant and post-copy's lazy fetch, against the
 * formulas written out here (README "Migration cost"), not against the code's own output.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_MIGRATION_COST, estimateMigration, streamMs, type MigrationInput } from '../../src/model/migration-cost.ts';
import type { MigrationCostParams } from '../../src/model/types.ts';

const MBIT_PER_MIB = 8.388608;
const STREAM: MigrationCostParams = { ...DEFAULT_MIGRATION_COST, coldTransport: 'stream' };

function input(o: Partial<MigrationInput>): MigrationInput {
  return { memoryMiB: 256, imageMiB: 0, dirtyRateMiBps: 0, mode: 'cold', bandwidthMbps: 1000, pathLatencyMs: 5, cost: STREAM, ...o };
}

describe('streamed (disk-less) cold migration', () => {
  it('link-limited: the last page lands setup + M / (eta W) after the freeze; downtime adds the restore', () => {
    // 256 MiB over 100 Mbit/s at eta 0.9: 23 860.9 ms on the wire, far longer than the 408.64 ms dump.
    const e = estimateMigration(input({ bandwidthMbps: 100 }));
    const cp = 40 + 1.44 * 256;
    const wire = ((256 * MBIT_PER_MIB) / (0.9 * 100)) * 1000;
    const stream = Math.max(cp, Math.max(0 + 2 * 5, 40) + wire); // pages flow from max(B + 2l, checkpointBaseMs) = 40 ms
    const rs = 50 + 1.1 * 256;
    expect(e.phases.checkpointMs).toBeCloseTo(cp, 9);
    expect(e.phases.transferMs).toBeCloseTo(stream, 9);
    expect(e.downtimeMs).toBeCloseTo(stream + rs, 9);
    expect(e.totalMs).toBeCloseTo(stream + rs, 9);
    expect(e.transport).toBe('stream');
    expect(e.bytes).toBe(256 * 1048576);
  });

  it('dump-limited: on a fast link the transfer hides inside the dump and the downtime is checkpoint + restore', () => {
    // 10 Gbit/s: 238.6 ms on the wire from 40 ms, ends before the 408.64 ms dump.
    const e = estimateMigration(input({ bandwidthMbps: 10_000 }));
    const cp = 40 + 1.44 * 256;
    expect(40 + ((256 * MBIT_PER_MIB) / (0.9 * 10_000)) * 1000).toBeLessThan(cp);
    expect(e.phases.transferMs).toBeCloseTo(cp, 9);
    expect(e.downtimeMs).toBeCloseTo(cp + 50 + 1.1 * 256, 9);
  });

  it('a per-transfer start-up larger than checkpointBaseMs delays the first page', () => {
    const cost = { ...STREAM, transferBaseMs: 300 };
    const e = estimateMigration(input({ bandwidthMbps: 1000, cost }));
    const wire = ((256 * MBIT_PER_MIB) / (0.9 * 1000)) * 1000; // 2386.1 ms
    expect(e.phases.transferMs).toBeCloseTo(Math.max(40 + 1.44 * 256, 300 + 10 + wire), 9);
    expect(streamMs(256, 1000, 5, cost)).toBeCloseTo(310 + wire, 9);
  });

  it('an uncached image is copied while the container still runs (the bundle is prepared before the freeze)', () => {
    const cost = { ...STREAM, imageCached: false };
    const e = estimateMigration(input({ imageMiB: 100, cost }));
    const imageMs = 10 + ((100 * MBIT_PER_MIB) / (0.9 * 1000)) * 1000;
    const stream = Math.max(40 + 1.44 * 256, 40 + ((256 * MBIT_PER_MIB) / (0.9 * 1000)) * 1000);
    expect(e.phases.imageMs).toBeCloseTo(imageMs, 9);
    expect(e.downtimeMs).toBeCloseTo(stream + 50 + 1.1 * 256, 9);
    expect(e.totalMs).toBeCloseTo(imageMs + e.downtimeMs, 9);
    expect(e.bytes).toBe(356 * 1048576);
  });

  it('the disk path is unchanged by default and when coldTransport is disk', () => {
    const disk = estimateMigration(input({ cost: DEFAULT_MIGRATION_COST }));
    const explicit = estimateMigration(input({ cost: { ...DEFAULT_MIGRATION_COST, coldTransport: 'disk' } }));
    const want = 40 + 1.44 * 256 + 10 + ((256 * MBIT_PER_MIB) / (0.9 * 1000)) * 1000 + 50 + 1.1 * 256;
    expect(disk.downtimeMs).toBeCloseTo(want, 9);
    expect(explicit).toEqual(disk);
    expect(disk.transport).toBeUndefined();
  });

  it('never slower than the disk path, never faster than checkpoint + restore (any size, bandwidth, latency, start-up)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 4096, noNaN: true }),
        fc.double({ min: 1, max: 100_000, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 2000, noNaN: true }),
        (mem, bw, lat, b) => {
          const stream = estimateMigration(input({ memoryMiB: mem, bandwidthMbps: bw, pathLatencyMs: lat, cost: { ...STREAM, transferBaseMs: b } }));
          const disk = estimateMigration(input({ memoryMiB: mem, bandwidthMbps: bw, pathLatencyMs: lat, cost: { ...DEFAULT_MIGRATION_COST, transferBaseMs: b } }));
          const floor = 40 + 1.44 * mem + 50 + 1.1 * mem;
          expect(stream.downtimeMs).toBeLessThanOrEqual(disk.downtimeMs + 1e-9);
          expect(stream.downtimeMs).toBeGreaterThanOrEqual(floor - 1e-9);
          // the saving is exactly the part of the dump the transfer overlapped
          expect(disk.downtimeMs - stream.downtimeMs).toBeCloseTo(disk.phases.checkpointMs + disk.phases.transferMs - stream.phases.transferMs, 6);
        },
      ),
    );
  });
});

describe('post-copy', () => {
  it('downtime moves the state S only; the lazy fetch sends M at lazyPagesEfficiency (default eta)', () => {
    const S = 2;
    const base = { memoryMiB: 512, mode: 'postcopy' as const, bandwidthMbps: 1000, pathLatencyMs: 5 };
    const def = estimateMigration(input({ ...base, cost: { ...DEFAULT_MIGRATION_COST, transferBaseMs: 100 } }));
    const stop = 40 + 1.44 * S + (100 + 10 + ((S * MBIT_PER_MIB) / (0.9 * 1000)) * 1000) + 50 + 1.1 * S;
    expect(def.downtimeMs).toBeCloseTo(stop, 9);
    expect(def.phases.lazyPagesMs).toBeCloseTo(100 + 10 + ((512 * MBIT_PER_MIB) / (0.9 * 1000)) * 1000, 9);
    const slow = estimateMigration(input({ ...base, cost: { ...DEFAULT_MIGRATION_COST, transferBaseMs: 100, lazyPagesEfficiency: 0.45 } }));
    expect(slow.downtimeMs).toBeCloseTo(stop, 9); // the stop-phase transfer keeps eta
    expect(slow.phases.lazyPagesMs).toBeCloseTo(100 + 10 + ((512 * MBIT_PER_MIB) / (0.45 * 1000)) * 1000, 9);
    expect(slow.totalMs).toBeCloseTo(stop + slow.phases.lazyPagesMs, 9);
    expect(slow.bytes).toBe((S + 512) * 1048576);
  });
});
