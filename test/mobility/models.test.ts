import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isConmigError } from '../../src/model/errors.ts';
import type { MobilitySpec, Point, UserSpec } from '../../src/model/types.ts';
import { createLegSource, positionAt, type Leg, type LegSource } from '../../src/mobility/index.ts';

const REQ = { ratePerS: 1, requestKiB: 1, responseKiB: 1, timeoutMs: 1000 };
const user = (id: string, start: Point, mobility: MobilitySpec): UserSpec => ({ id, start, mobility, requests: REQ });

function take(src: LegSource, n: number): Leg[] {
  const legs: Leg[] = [];
  for (let k = 0; k < n; k++) {
    const leg = src.next();
    if (leg === null) break;
    legs.push(leg);
  }
  return legs;
}

/** Legs are contiguous from (0, start), integer, with positive duration. Returns the first violation or null. */
function continuityViolation(src: LegSource, legs: Leg[]): string | null {
  let t = 0;
  let p = src.start;
  for (const [k, leg] of legs.entries()) {
    if (!Number.isInteger(leg.startUs) || !Number.isInteger(leg.endUs)) return `leg ${k}: non-integer time`;
    if (leg.endUs <= leg.startUs) return `leg ${k}: endUs <= startUs`;
    if (leg.startUs !== t) return `leg ${k}: starts at ${leg.startUs}, previous ended at ${t}`;
    if (leg.from.xM !== p.xM || leg.from.yM !== p.yM) return `leg ${k}: starts away from the previous end`;
    t = leg.endUs;
    p = leg.to;
  }
  return null;
}

const inside = (p: Point, w: number, h: number): boolean => p.xM >= 0 && p.xM <= w && p.yM >= 0 && p.yM <= h;

/** Effective speed of a moving leg lies in [lo, hi] up to the 0.5 µs rounding of its duration. */
function speedOk(leg: Leg, lo: number, hi: number): boolean {
  const d = Math.hypot(leg.to.xM - leg.from.xM, leg.to.yM - leg.from.yM);
  const durS = (leg.endUs - leg.startUs) / 1e6;
  const eps = 1e-9 * Math.max(1, d);
  return d >= lo * (durS - 0.5e-6) - eps && d <= hi * (durS + 0.5e-6) + eps;
}

const areaArb = fc.record({ width: fc.integer({ min: 50, max: 20_000 }), height: fc.integer({ min: 50, max: 20_000 }) });
const speedArb = fc
  .tuple(fc.double({ min: 0.1, max: 40, noNaN: true }), fc.double({ min: 0, max: 20, noNaN: true }))
  .map(([lo, extra]): [number, number] => [lo, lo + extra]);
const pauseArb = fc
  .tuple(fc.double({ min: 0, max: 60, noNaN: true }), fc.double({ min: 0, max: 60, noNaN: true }))
  .map(([a, b]): [number, number] => [Math.min(a, b), Math.max(a, b)]);

describe('static', () => {
  it('never moves: next() is null at once and start is the user start', () => {
    const src = createLegSource(user('s', { xM: 3, yM: 4 }, { kind: 'static' }), { areaM: { width: 10, height: 10 }, seed: 1 });
    expect(src.start).toEqual({ xM: 3, yM: 4 });
    expect(src.next()).toBeNull();
    expect(src.next()).toBeNull();
  });
});

describe('random waypoint', () => {
  it('legs are contiguous, inside the area and at speeds within the range (property)', () => {
    fc.assert(
      fc.property(areaArb, speedArb, pauseArb, fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (area, speedMps, pauseS, seed, fx, fy) => {
        const u = user('u7', { xM: fx * area.width, yM: fy * area.height }, { kind: 'random-waypoint', speedMps, pauseS });
        const src = createLegSource(u, { areaM: area, seed });
        const legs = take(src, 40);
        expect(legs.length).toBe(40);
        expect(continuityViolation(src, legs)).toBeNull();
        for (const leg of legs) {
          expect(inside(leg.to, area.width, area.height)).toBe(true);
          const mid = positionAt(leg, Math.floor((leg.startUs + leg.endUs) / 2));
          expect(inside(mid, area.width, area.height)).toBe(true);
          const moving = leg.from !== leg.to;
          if (moving) expect(speedOk(leg, speedMps[0], speedMps[1])).toBe(true);
          else expect(leg.endUs - leg.startUs).toBeLessThanOrEqual(Math.round(pauseS[1] * 1e6) + 1);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('alternates moves and pauses, and skips zero pauses', () => {
    const area = { width: 1000, height: 1000 };
    const paused = take(createLegSource(user('a', { xM: 500, yM: 500 }, { kind: 'random-waypoint', speedMps: [1, 2], pauseS: [5, 10] }), { areaM: area, seed: 3 }), 10);
    expect(paused.map((l) => l.from === l.to)).toEqual([false, true, false, true, false, true, false, true, false, true]);
    const noPause = take(createLegSource(user('a', { xM: 500, yM: 500 }, { kind: 'random-waypoint', speedMps: [1, 2], pauseS: [0, 0] }), { areaM: area, seed: 3 }), 10);
    expect(noPause.every((l) => l.from !== l.to)).toBe(true);
  });

  it('is deterministic by seed and user id, and users are independent', () => {
    const area = { width: 2000, height: 1000 };
    const spec: MobilitySpec = { kind: 'random-waypoint', speedMps: [1, 15], pauseS: [0, 30] };
    const a1 = take(createLegSource(user('u1', { xM: 0, yM: 0 }, spec), { areaM: area, seed: 42 }), 20);
    // Interleave another user's source: must not change u1's legs.
    const other = createLegSource(user('u2', { xM: 0, yM: 0 }, spec), { areaM: area, seed: 42 });
    const u1 = createLegSource(user('u1', { xM: 0, yM: 0 }, spec), { areaM: area, seed: 42 });
    const a2: Leg[] = [];
    for (let k = 0; k < 20; k++) {
      other.next();
      const leg = u1.next();
      if (leg !== null) a2.push(leg);
    }
    expect(a2).toEqual(a1);
    const b = take(createLegSource(user('u1', { xM: 0, yM: 0 }, spec), { areaM: area, seed: 43 }), 20);
    expect(b).not.toEqual(a1);
    const c = take(createLegSource(user('u2', { xM: 0, yM: 0 }, spec), { areaM: area, seed: 42 }), 20);
    expect(c).not.toEqual(a1);
  });

  it('rejects a speed range starting at 0 (speed decay) with SCENARIO_INVALID naming the field', () => {
    const u = user('w', { xM: 0, yM: 0 }, { kind: 'random-waypoint', speedMps: [0, 5], pauseS: [0, 0] });
    try {
      createLegSource(u, { areaM: { width: 10, height: 10 }, seed: 1 });
      expect.unreachable();
    } catch (e) {
      expect(isConmigError(e) && e.code).toBe('SCENARIO_INVALID');
      expect(String(e)).toContain('users[w].mobility.speedMps');
    }
  });
});

describe('manhattan', () => {
  const onStreet = (v: number, b: number): boolean => Math.abs(v / b - Math.round(v / b)) < 1e-9;

  it('legs are contiguous, axis-aligned, on streets, inside the area, at speeds in range (property)', () => {
    fc.assert(
      fc.property(
        areaArb,
        fc.integer({ min: 10, max: 400 }),
        speedArb,
        pauseArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (area, blockM, speedMps, pauseS, turnProbability, seed, fx, fy) => {
          fc.pre(blockM <= area.width || blockM <= area.height);
          const u = user('m1', { xM: fx * area.width, yM: fy * area.height }, { kind: 'manhattan', blockM, speedMps, turnProbability, pauseS });
          const src = createLegSource(u, { areaM: area, seed });
          const legs = take(src, 60);
          expect(legs.length).toBe(60);
          expect(continuityViolation(src, legs)).toBeNull();
          expect(onStreet(src.start.xM, blockM) || onStreet(src.start.yM, blockM)).toBe(true);
          for (const leg of legs) {
            const { from, to } = leg;
            expect(inside(to, area.width, area.height)).toBe(true);
            if (from === to) continue;
            expect(speedOk(leg, speedMps[0], speedMps[1])).toBe(true);
            const vertical = from.xM === to.xM;
            const horizontal = from.yM === to.yM;
            expect(vertical || horizontal).toBe(true);
            // The street it moves along, and it ends on an intersection.
            expect(vertical ? onStreet(from.xM, blockM) : onStreet(from.yM, blockM)).toBe(true);
            expect(onStreet(to.xM, blockM) && onStreet(to.yM, blockM)).toBe(true);
            expect(Math.hypot(to.xM - from.xM, to.yM - from.yM)).toBeLessThanOrEqual(blockM + 1e-9);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('snaps the start to the nearest street and, with turnProbability 0, keeps going straight until the border', () => {
    const area = { width: 1000, height: 1000 };
    const u = user('m', { xM: 210, yM: 555 }, { kind: 'manhattan', blockM: 100, speedMps: [10, 10], turnProbability: 0, pauseS: [0, 0] });
    const src = createLegSource(u, { areaM: area, seed: 5 });
    expect(src.start).toEqual({ xM: 200, yM: 555 });
    const legs = take(src, 30);
    expect(legs.every((l) => l.from.xM === 200 && l.to.xM === 200)).toBe(true);
    // It bounces between the borders y = 0 and y = 1000.
    const ys = legs.map((l) => l.to.yM);
    expect(ys).toContain(0);
    expect(ys).toContain(1000);
    // Block legs take blockM / speed = 10 s.
    expect(legs.slice(1).every((l) => l.endUs - l.startUs === 10_000_000)).toBe(true);
  });

  it('turns at about the configured rate', () => {
    const u = user('t', { xM: 500, yM: 500 }, { kind: 'manhattan', blockM: 50, speedMps: [5, 5], turnProbability: 0.5, pauseS: [0, 0] });
    const legs = take(createLegSource(u, { areaM: { width: 100_000, height: 100_000 }, seed: 9 }), 2001);
    let turns = 0;
    for (let k = 1; k < legs.length; k++) {
      const a = legs[k - 1];
      const b = legs[k];
      const sameAxis = (a.from.xM === a.to.xM) === (b.from.xM === b.to.xM);
      if (!sameAxis) turns++;
    }
    expect(turns / 2000).toBeGreaterThan(0.45);
    expect(turns / 2000).toBeLessThan(0.55);
  });
});

describe('straight path', () => {
  const from = { xM: 0, yM: 0 };
  const to = { xM: 300, yM: 400 };

  it('starts at from, arrives at to after distance / speed, then stops', () => {
    const src = createLegSource(user('p', { xM: 9, yM: 9 }, { kind: 'straight-path', from, to, speedMps: 7, atEnd: 'stop' }), { areaM: { width: 1, height: 1 }, seed: 1 });
    expect(src.start).toEqual(from);
    const leg = src.next();
    expect(leg).toEqual({ startUs: 0, endUs: Math.round((500 / 7) * 1e6), from, to });
    expect(src.next()).toBeNull();
    expect(src.next()).toBeNull();
  });

  it('bounces back and forth forever', () => {
    const src = createLegSource(user('p', from, { kind: 'straight-path', from, to, speedMps: 5, atEnd: 'bounce' }), { areaM: { width: 1, height: 1 }, seed: 1 });
    const legs = take(src, 6);
    expect(legs.length).toBe(6);
    expect(continuityViolation(src, legs)).toBeNull();
    expect(legs.map((l) => l.to)).toEqual([to, from, to, from, to, from]);
    expect(legs[5].endUs).toBe(6 * 100_000_000);
  });
});

describe('positionAt', () => {
  it('interpolates linearly and returns the exact end points at and beyond the ends', () => {
    const leg: Leg = { startUs: 1000, endUs: 3000, from: { xM: 0.1, yM: 0.2 }, to: { xM: 10.3, yM: -4.7 } };
    expect(positionAt(leg, 2000).xM).toBeCloseTo(5.2, 12);
    expect(positionAt(leg, 2000).yM).toBeCloseTo(-2.25, 12);
    expect(positionAt(leg, 3000)).toBe(leg.to);
    expect(positionAt(leg, 99_999)).toBe(leg.to);
    expect(positionAt(leg, 1000)).toBe(leg.from);
  });
});
