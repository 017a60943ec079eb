import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTraceFile, resolveTraceUser, traceSource, type Leg } from '../../src/mobility/index.ts';
import { SAMPLE_CABSPOTTING, SAMPLE_CSV, synthesizeCabspotting, synthesizeCsvTrace } from '../../src/mobility/synthetic-trace.ts';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../../scenarios/traces');

describe('shipped sample traces', () => {
  it('are exactly what scenarios/traces/generate.ts writes', () => {
    expect(readFileSync(join(DIR, 'city-taxis.csv'), 'utf8')).toBe(synthesizeCsvTrace(SAMPLE_CSV));
    const cabs = synthesizeCabspotting(SAMPLE_CABSPOTTING);
    expect(readdirSync(join(DIR, 'cabspotting')).sort()).toEqual([...cabs.keys()].sort());
    for (const [name, text] of cabs) expect(readFileSync(join(DIR, 'cabspotting', name), 'utf8')).toBe(text);
  });

  it('the csv sample loads: 10 taxis inside the 4 km area for 600 s, mapped from group ids', () => {
    const data = loadTraceFile(join(DIR, 'city-taxis.csv'), 'csv');
    const keys = [...data.keys()];
    expect(keys).toEqual(Array.from({ length: 10 }, (_, k) => `taxi-${k}`));
    expect(resolveTraceUser('taxi-4', keys, 'city-taxis.csv')).toBe('taxi-4');
    for (const pts of data.values()) {
      expect(pts.length).toBe(61);
      expect(pts[pts.length - 1].timeUs).toBe(600_000_000);
      for (const p of pts) expect(p.xM >= 0 && p.xM <= 4000 && p.yM >= 0 && p.yM <= 4000).toBe(true);
    }
  });

  it('the cabspotting sample loads as a directory: 3 cabs, t = 0 .. 900 s, within about 4 km, speeds plausible', () => {
    const data = loadTraceFile(join(DIR, 'cabspotting'), 'cabspotting');
    expect([...data.keys()]).toEqual(['cab0', 'cab1', 'cab2']);
    for (const pts of data.values()) {
      expect(pts[0].timeUs).toBe(0);
      expect(pts[pts.length - 1].timeUs).toBe(900_000_000);
      for (const p of pts) expect(p.xM <= 4050 && p.yM <= 4050).toBe(true);
      const src = traceSource(pts);
      for (let leg: Leg | null = src.next(); leg !== null; leg = src.next()) {
        const mps = Math.hypot(leg.to.xM - leg.from.xM, leg.to.yM - leg.from.yM) / ((leg.endUs - leg.startUs) / 1e6);
        // Grid speed is at most 15 m/s; sampled chords are shorter, rounding to 1e-5° adds ~1 m.
        expect(mps).toBeLessThan(15.2);
      }
    }
  });
});
