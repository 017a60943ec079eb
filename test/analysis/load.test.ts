import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadComparableRun, runLabels } from '../../src/analysis/load.ts';
import { createRequestTraceWriter, writeRun } from '../../src/results/write.ts';
import type { RequestRecord } from '../../src/model/results.ts';
import { syntheticRun } from './synthetic.ts';

const tmp = mkdtempSync(join(tmpdir(), 'conmig-analysis-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function request(responseMs: number, status: 'served' | 'failed' = 'served', sentS = 5): RequestRecord {
  return { userId: 'u', containerId: 'c', nodeId: 'n1', sentS, status, responseMs, networkMs: 1, queueMs: 0, serviceMs: responseMs - 1, migrationWaitMs: 0 };
}

describe('loadComparableRun', () => {
  it('uses requests.csv as exact samples when its served count matches the histogram', async () => {
    const dir = join(tmp, 'with-trace');
    const values = [30, 10, 20, 40];
    await writeRun(dir, syntheticRun({ label: 'x', samplesMs: values }));
    const w = createRequestTraceWriter(dir);
    values.forEach((v) => w.write(request(v)));
    w.write(request(99, 'failed'));
    await w.close();
    const run = await loadComparableRun(dir, 'x');
    expect(Array.from(run.samplesMs ?? [])).toEqual([10, 20, 30, 40]);
    expect(run.sampleNote).toBeUndefined();
  });

  it('falls back to the histogram, with a note, when the counts disagree', async () => {
    const dir = join(tmp, 'short-trace');
    await writeRun(dir, syntheticRun({ label: 'y', samplesMs: [1, 2, 3] }));
    const w = createRequestTraceWriter(dir);
    w.write(request(1));
    await w.close();
    const run = await loadComparableRun(dir, 'y');
    expect(run.samplesMs).toBeUndefined();
    expect(run.sampleNote).toContain('requests.csv has 1 served requests after warm-up but latency-hist.csv counts 3');
  });

  it('labels runs by folder name, disambiguated by the parent folder', () => {
    expect(runLabels(['/r/live/nearest', '/r/sim/nearest', '/r/sim/never'])).toEqual(['live/nearest', 'sim/nearest', 'never']);
    expect(runLabels(['/a/x', '/a/x'])).toEqual(['a/x#1', 'a/x#2']);
  });
});
