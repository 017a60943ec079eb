import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccessPointSpec, Point } from '../../src/model/types.ts';
import { ApIndex, handoversAlongLeg, positionAt, type Handover, type Leg } from '../../src/mobility/index.ts';

const ap = (xM: number, yM: number, k: number): AccessPointSpec => ({ id: `ap${k}`, position: { xM, yM }, attachedTo: 'n0' });
const apsOf = (pts: Point[]): ApIndex => new ApIndex(pts.map((p, k) => ap(p.xM, p.yM, k)));

/** The AP the handover list says the user is attached to at integer time t. */
function announcedAt(leg: Leg, aps: ApIndex, hs: Handover[], t: number): number {
  let a = aps.nearest(leg.from);
  for (const h of hs) if (h.atUs <= t) a = h.apIndex;
  return a;
}

/** Checks one leg against brute force; returns the first disagreement or null. */
function disagreement(leg: Leg, aps: ApIndex, sampleTimes: Iterable<number>): string | null {
  const hs = handoversAlongLeg(leg, aps);
  let prevT = leg.startUs;
  let prevAp = aps.nearest(leg.from);
  for (const h of hs) {
    if (!(h.atUs > prevT && h.atUs <= leg.endUs && Number.isInteger(h.atUs))) return `bad time ${h.atUs}`;
    if (h.apIndex === prevAp) return `no-op handover at ${h.atUs}`;
    if (aps.nearest(positionAt(leg, h.atUs)) !== h.apIndex) return `at ${h.atUs} the nearest is not ${h.apIndex}`;
    if (aps.nearest(positionAt(leg, h.atUs - 1)) !== prevAp) return `just before ${h.atUs} the nearest is not ${prevAp}`;
    prevT = h.atUs;
    prevAp = h.apIndex;
  }
  for (const t of sampleTimes) {
    const truth = aps.nearest(positionAt(leg, t));
    const said = announcedAt(leg, aps, hs, t);
    if (truth !== said) return `at ${t}: nearest ${truth}, announced ${said}`;
  }
  return null;
}

function* range(lo: number, hi: number, step = 1): Generator<number> {
  for (let t = lo; t <= hi; t += step) yield t;
}

// Integer coordinates on a small grid make exact ties (legs along bisectors, through Voronoi vertices) likely.
// Otherwise millimetre resolution: realistic, and free of the subnormal squares fc.double would produce.
const coordArb = (max: number, integer: boolean): fc.Arbitrary<number> =>
  integer ? fc.integer({ min: 0, max }) : fc.integer({ min: 0, max: max * 1000 }).map((mm) => mm / 1000);
const pointArb = (max: number, integer: boolean): fc.Arbitrary<Point> =>
  fc.record({ xM: coordArb(max, integer), yM: coordArb(max, integer) });

describe('ApIndex.nearest', () => {
  it('returns the nearest AP and breaks ties to the lower index', () => {
    const aps = apsOf([{ xM: 0, yM: 0 }, { xM: 10, yM: 0 }, { xM: 0, yM: 10 }]);
    expect(aps.nearest({ xM: 9, yM: 1 })).toBe(1);
    expect(aps.nearest({ xM: 5, yM: 0 })).toBe(0);
    expect(aps.nearest({ xM: 5, yM: 5 })).toBe(0);
    expect(aps.nearest({ xM: 1, yM: 6 })).toBe(2);
  });
});

describe('handoversAlongLeg', () => {
  it('reports nothing for a leg exactly on a Voronoi edge despite rounding noise', () => {
    // AP 0 and AP 1 are mirror images about the leg's line: equidistant all along.
    const aps = apsOf([{ xM: 9, yM: 17 }, { xM: 17, yM: 5 }, { xM: 0, yM: 0 }]);
    const leg: Leg = { startUs: 0, endUs: 33, from: { xM: 13, yM: 11 }, to: { xM: 19, yM: 15 } };
    expect(handoversAlongLeg(leg, aps)).toEqual([]);
    for (let t = 0; t <= 33; t++) expect(aps.nearest(positionAt(leg, t))).toBe(0);
  });

  it('finds the change where the lines and nearest() disagree by rounding (subnormal squares)', () => {
    // Squared distances underflow here, so the envelope sees no crossing; the probes must still find it.
    const aps = apsOf([{ xM: 0, yM: 1.5717277847026288e-162 }, { xM: 0, yM: 0 }]);
    const leg: Leg = { startUs: 0, endUs: 2, from: { xM: 0, yM: 1.2338789709326767e-178 }, to: { xM: 0, yM: 0 } };
    expect(disagreement(leg, aps, range(0, 2))).toBeNull();
  });

  it('hands over one µs after an exact tie (ties go to the lower index)', () => {
    const aps = apsOf([{ xM: 0, yM: 0 }, { xM: 100, yM: 0 }]);
    const leg: Leg = { startUs: 1000, endUs: 1100, from: { xM: 0, yM: 0 }, to: { xM: 100, yM: 0 } };
    expect(handoversAlongLeg(leg, aps)).toEqual([{ atUs: 1051, apIndex: 1 }]);
    const back: Leg = { startUs: 0, endUs: 100, from: { xM: 100, yM: 0 }, to: { xM: 0, yM: 0 } };
    // Going the other way the tie instant already belongs to AP 0.
    expect(handoversAlongLeg(back, aps)).toEqual([{ atUs: 50, apIndex: 0 }]);
  });

  it('crosses several cells in order and reports nothing on a pause or along a bisector', () => {
    const aps = apsOf([{ xM: 0, yM: 0 }, { xM: 100, yM: 0 }, { xM: 200, yM: 0 }, { xM: 300, yM: 0 }]);
    const leg: Leg = { startUs: 0, endUs: 3_000_000, from: { xM: 0, yM: 10 }, to: { xM: 300, yM: 10 } };
    expect(handoversAlongLeg(leg, aps)).toEqual([
      { atUs: 500_001, apIndex: 1 },
      { atUs: 1_500_001, apIndex: 2 },
      { atUs: 2_500_001, apIndex: 3 },
    ]);
    const pause: Leg = { startUs: 0, endUs: 10, from: { xM: 50, yM: 0 }, to: { xM: 50, yM: 0 } };
    expect(handoversAlongLeg(pause, aps)).toEqual([]);
    const bisector: Leg = { startUs: 0, endUs: 1000, from: { xM: 50, yM: -100 }, to: { xM: 50, yM: 100 } };
    expect(handoversAlongLeg(bisector, aps)).toEqual([]);
  });

  it('finds a cell crossed only in the middle of a long leg, far from both ends', () => {
    const aps = apsOf([{ xM: 5000, yM: 5000 }, { xM: 0, yM: 0 }, { xM: 500, yM: 40 }, { xM: 1000, yM: 0 }]);
    const leg: Leg = { startUs: 0, endUs: 1000, from: { xM: 0, yM: 0 }, to: { xM: 1000, yM: 0 } };
    const hs = handoversAlongLeg(leg, aps);
    expect(hs.map((h) => h.apIndex)).toEqual([2, 3]);
    expect(disagreement(leg, aps, range(0, 1000))).toBeNull();
  });

  it('reports a change exactly at endUs, so the next leg starts on the announced AP', () => {
    const aps = apsOf([{ xM: 0, yM: 0 }, { xM: 100, yM: 0 }]);
    const leg: Leg = { startUs: 0, endUs: 10, from: { xM: 0, yM: 0 }, to: { xM: 50.0001, yM: 0 } };
    const hs = handoversAlongLeg(leg, aps);
    expect(hs).toEqual([{ atUs: 10, apIndex: 1 }]);
    expect(aps.nearest(leg.to)).toBe(1);
  });

  it('agrees with brute force at every µs on short legs (property, tie-prone integer grid)', () => {
    fc.assert(
      fc.property(
        fc.array(pointArb(20, true), { minLength: 1, maxLength: 12 }),
        pointArb(20, true),
        pointArb(20, true),
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 400 }),
        (pts, from, to, startUs, durUs) => {
          const aps = apsOf(pts);
          const leg: Leg = { startUs, endUs: startUs + durUs, from, to };
          expect(disagreement(leg, aps, range(startUs, startUs + durUs))).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with brute force on fine samples of long legs (property, mm-resolution coordinates)', () => {
    fc.assert(
      fc.property(
        fc.array(pointArb(5000, false), { minLength: 1, maxLength: 60 }),
        pointArb(5000, false),
        pointArb(5000, false),
        fc.integer({ min: 0, max: 3.6e9 }),
        fc.integer({ min: 1, max: 600_000_000 }),
        (pts, from, to, startUs, durUs) => {
          const aps = apsOf(pts);
          const leg: Leg = { startUs, endUs: startUs + durUs, from, to };
          const step = Math.max(1, Math.floor(durUs / 3000));
          // Also check right around each announced handover.
          const around = handoversAlongLeg(leg, aps).flatMap((h) => [h.atUs - 2, h.atUs - 1, h.atUs, h.atUs + 1]);
          const times = [...range(startUs, startUs + durUs, step), ...around.filter((t) => t >= startUs && t <= leg.endUs)];
          expect(disagreement(leg, aps, times)).toBeNull();
        },
      ),
      { numRuns: 150 },
    );
  });
});
