import { describe, expect, it } from 'vitest';
import { compareRuns, pairMigrations } from '../../src/analysis/compare.ts';
import { ConmigError } from '../../src/model/errors.ts';
import { createRng, lognormalSamples, migration, syntheticRun } from './synthetic.ts';

const base = lognormalSamples(createRng(7, 'compare'), 4000, 40, 0.4);
const migs = [
  migration({ id: 1, containerId: 'c1', downtimeMs: 400 }),
  migration({ id: 2, containerId: 'c2', downtimeMs: 500 }),
  migration({ id: 3, containerId: 'c1', downtimeMs: 600 }),
];

describe('compareRuns', () => {
  it('two identical runs agree on everything', () => {
    const a = syntheticRun({ label: 'live', samplesMs: base, migrations: migs, mode: 'live' });
    const b = syntheticRun({ label: 'sim', samplesMs: base, migrations: migs });
    const r = compareRuns([a, b]);
    expect(r.agree).toBe(true);
    expect(r.sameScenario).toBe(true);
    expect(r.reference).toBe('live');
    expect(r.verdicts.map((v) => v.verdict)).toEqual(['agree', 'agree', 'agree', 'agree', 'agree', 'agree']);
    expect(r.ks[0].d).toBe(0);
    expect(r.migrations[0].downtime.meanAbsRel).toBe(0);
    expect(r.differences.map((d) => d.field)).toEqual(['mode']);
    expect(r.runs[0].source).toBe('histogram');
  });

  it('latencies 30% higher disagree on every percentile, with the sentence', () => {
    const a = syntheticRun({ label: 'live', samplesMs: base, withSamples: true });
    const b = syntheticRun({ label: 'sim', samplesMs: base.map((x) => x * 1.3), withSamples: true });
    const r = compareRuns([a, b]);
    expect(r.agree).toBe(false);
    const p95 = r.verdicts.find((v) => v.metric === 'p95');
    expect(p95?.verdict).toBe('disagree');
    expect(p95?.sentence).toBe('p95 differs by 30.0% (tolerance 10%): the runs disagree');
    for (const q of ['p50', 'p90', 'p99']) expect(r.verdicts.find((v) => v.metric === q)?.verdict).toBe('disagree');
    expect(r.runs[1].source).toBe('samples');
    expect(r.ks[0].method).toBe('exact');
    expect(r.ks[0].d).toBeGreaterThan(0.1);
    expect(r.verdicts.find((v) => v.metric === 'distribution')?.verdict).toBe('disagree');
  });

  it('from histograms only: 30% apart still disagrees, within the bucket resolution', () => {
    const a = syntheticRun({ label: 'a', samplesMs: base });
    const b = syntheticRun({ label: 'b', samplesMs: base.map((x) => x * 1.3) });
    const r = compareRuns([a, b]);
    const p95 = r.percentiles.find((p) => p.q === 0.95);
    expect(p95?.relError).toBeGreaterThan(0.28);
    expect(p95?.relError).toBeLessThan(0.32);
    expect(r.ks[0].method).toBe('histogram-lower-bound');
  });

  it('5% apart agrees on percentiles with tolerance 10%, disagrees with tolerance 2%', () => {
    const a = syntheticRun({ label: 'a', samplesMs: base, withSamples: true });
    const b = syntheticRun({ label: 'b', samplesMs: base.map((x) => x * 1.05), withSamples: true });
    expect(compareRuns([a, b]).verdicts.find((v) => v.metric === 'p50')?.verdict).toBe('agree');
    const strict = compareRuns([a, b], { tolerance: { percentileRel: 0.02 } });
    expect(strict.verdicts.find((v) => v.metric === 'p50')?.sentence).toBe('p50 differs by 5.0% (tolerance 2%): the runs disagree');
  });

  it('percentile CIs bracket the estimate', () => {
    const r = compareRuns([syntheticRun({ label: 'a', samplesMs: base }), syntheticRun({ label: 'b', samplesMs: base, withSamples: true })]);
    for (const run of r.runs) {
      for (const p of run.percentiles) {
        expect(p.ci.lo).toBeLessThanOrEqual(p.valueMs);
        expect(p.ci.hi).toBeGreaterThanOrEqual(p.valueMs);
      }
    }
  });

  it('different scenario hashes: RESULT_MISMATCH naming both folders and the differences', () => {
    const a = syntheticRun({ label: 'a', samplesMs: base, hash: 'aaaa', name: 'corridor' });
    const b = syntheticRun({ label: 'b', samplesMs: base, hash: 'bbbb', name: 'campus', seed: 2 });
    let err: unknown;
    try {
      compareRuns([a, b]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConmigError);
    const ce = err as ConmigError;
    expect(ce.code).toBe('RESULT_MISMATCH');
    expect(ce.message).toContain('/results/a');
    expect(ce.message).toContain('/results/b');
    expect(ce.message).toContain('name (corridor vs campus)');
    expect(ce.message).toContain('seed (1 vs 2)');
    // allowed on request, and still listed
    const r = compareRuns([a, b], { allowMismatch: true });
    expect(r.sameScenario).toBe(false);
    expect(r.differences.map((d) => d.field)).toEqual(['hash', 'name', 'seed']);
  });

  it('migration downtimes: mean and worst relative error decide the verdict', () => {
    const a = syntheticRun({ label: 'live', samplesMs: base, migrations: migs });
    const close = migs.map((m, i) => ({ ...m, downtimeMs: m.downtimeMs * [1.1, 1, 1][i] }));
    const far = migs.map((m, i) => ({ ...m, downtimeMs: m.downtimeMs * [1.3, 1.2, 0.8][i] }));
    const r1 = compareRuns([a, syntheticRun({ label: 'sim', samplesMs: base, migrations: close })]);
    const d1 = r1.verdicts.find((v) => v.metric === 'downtime');
    expect(d1?.verdict).toBe('agree');
    expect(d1?.value).toBeCloseTo(0.1 / 3, 12);
    const r2 = compareRuns([a, syntheticRun({ label: 'sim', samplesMs: base, migrations: far })]);
    const d2 = r2.verdicts.find((v) => v.metric === 'downtime');
    expect(d2?.verdict).toBe('disagree');
    expect(d2?.value).toBeCloseTo(0.7 / 3, 12);
    expect(d2?.sentence).toBe(
      'migration downtime differs by 23.3% on average, 30.0% at worst, over 3 paired migrations (tolerance 15%): the runs disagree',
    );
  });

  it('no migrations: downtime is n/a and does not spoil the overall verdict', () => {
    const r = compareRuns([syntheticRun({ label: 'a', samplesMs: base }), syntheticRun({ label: 'b', samplesMs: base })]);
    expect(r.verdicts.find((v) => v.metric === 'downtime')?.verdict).toBe('n/a');
    expect(r.agree).toBe(true);
  });

  it('needs two runs', () => {
    expect(() => compareRuns([syntheticRun({ label: 'a', samplesMs: base })])).toThrow(/at least two runs/);
  });

  it('three runs: each later run is judged against the first', () => {
    const r = compareRuns([
      syntheticRun({ label: 'a', samplesMs: base }),
      syntheticRun({ label: 'b', samplesMs: base }),
      syntheticRun({ label: 'c', samplesMs: base.map((x) => x * 2) }),
    ]);
    expect(r.ks.map((k) => [k.reference, k.run])).toEqual([
      ['a', 'b'],
      ['a', 'c'],
    ]);
    expect(r.verdicts.filter((v) => v.run === 'b').every((v) => v.verdict !== 'disagree')).toBe(true);
    expect(r.verdicts.find((v) => v.run === 'c' && v.metric === 'p50')?.verdict).toBe('disagree');
  });
});

describe('pairMigrations', () => {
  it('pairs the k-th ok migration per container, counts the rest, skips failed ones', () => {
    const ref = [
      migration({ id: 1, containerId: 'c1' }),
      migration({ id: 2, containerId: 'c1', to: 'n3' }),
      migration({ id: 3, containerId: 'c2' }),
    ];
    const other = [
      migration({ id: 1, containerId: 'c1' }),
      migration({ id: 2, containerId: 'c2', status: 'failed' }),
      migration({ id: 3, containerId: 'c1' }),
      migration({ id: 4, containerId: 'c3' }),
    ];
    const p = pairMigrations(ref, other);
    expect(p.pairs.map((x) => [x.containerId, x.k, x.reference.id, x.other.id, x.routeDiffers])).toEqual([
      ['c1', 0, 1, 1, false],
      ['c1', 1, 2, 3, true],
    ]);
    expect(p.unpairedReference).toBe(1);
    expect(p.unpairedOther).toBe(1);
  });
});
