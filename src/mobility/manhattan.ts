/**
 * Manhattan grid mobility. Streets run along x = i·blockM (i = 0..nx) and
 * y = j·blockM (j = 0..ny) with nx = floor(width / blockM), ny likewise, so
 * the grid is the part of the area covered by whole blocks.
 *
 * - The start is clamped into the grid and snapped onto the nearest street
 *   (moving only the coordinate closest to a street; within 1 mm of an
 *   intersection, onto the intersection); that point is LegSource.start.
 * - A user starting mid-block picks one of the two directions along its
 *   street (1/2 each) and walks to the next intersection; a user starting on
 *   an intersection picks one of the four directions (1/4 each).
 * - At each intersection: straight with probability 1 - turnProbability,
 *   left or right with turnProbability / 2 each. A direction that leaves the
 *   grid is reflected (straight becomes a U-turn, left becomes right and
 *   vice versa); if that is blocked too (a one-street grid) any open
 *   direction is taken; a grid of one point yields no legs.
 * - Each block is walked at its own speed uniform in speedMps, followed by
 *   a pause uniform in pauseS (skipped when it rounds to 0 µs).
 * Draws per block, in order: direction, speed, pause.
 */
import type { Rng } from '../model/random.ts';
import { uniform } from '../model/random.ts';
import type { MobilitySpec, Point, UserSpec } from '../model/types.ts';
import { LegCursor } from './legs.ts';
import { checkRange, invalidMobility, type Area } from './models.ts';
import type { Leg, LegSource } from './types.ts';

type ManhattanSpec = Extract<MobilitySpec, { kind: 'manhattan' }>;

/** 0 = +x (east), 1 = +y (north), 2 = -x (west), 3 = -y (south). Left of d is d+1. */
const DX = [1, 0, -1, 0] as const;
const DY = [0, 1, 0, -1] as const;

export function manhattanSource(user: UserSpec, spec: ManhattanSpec, area: Area, rng: Rng): LegSource {
  const b = spec.blockM;
  if (!(b > 0) || !Number.isFinite(b)) invalidMobility(user.id, 'blockM', `expected a block length > 0, got ${b}`);
  checkRange(user.id, 'speedMps', spec.speedMps, 0, true);
  checkRange(user.id, 'pauseS', spec.pauseS, 0, false);
  const p = spec.turnProbability;
  if (!(p >= 0 && p <= 1)) invalidMobility(user.id, 'turnProbability', `expected a probability in [0, 1], got ${p}`);

  const nx = Math.floor(area.width / b);
  const ny = Math.floor(area.height / b);
  const open = (i: number, j: number, d: number): boolean => {
    const ti = i + DX[d];
    const tj = j + DY[d];
    return ti >= 0 && ti <= nx && tj >= 0 && tj <= ny;
  };
  /** The wanted direction, reflected if blocked, else any open one; -1 if none. */
  const resolve = (i: number, j: number, want: number): number => {
    if (open(i, j, want)) return want;
    const back = (want + 2) % 4;
    if (open(i, j, back)) return back;
    for (let k = 1; k <= 3; k += 2) if (open(i, j, (want + k) % 4)) return (want + k) % 4;
    return -1;
  };

  // Snap the start onto the grid.
  const xc = Math.min(Math.max(user.start.xM, 0), nx * b);
  const yc = Math.min(Math.max(user.start.yM, 0), ny * b);
  const si = Math.min(Math.max(Math.round(xc / b), 0), nx);
  const sj = Math.min(Math.max(Math.round(yc / b), 0), ny);
  const onVertical = Math.abs(xc - si * b) <= Math.abs(yc - sj * b);
  let along = onVertical ? yc / b : xc / b;
  // Within 1 mm of an intersection: start on it (avoids µs-short first legs whose speed rounding shows).
  if (Math.abs(along - Math.round(along)) * b < 1e-3) along = Math.round(along);
  const start: Point = onVertical
    ? { xM: si * b, yM: Number.isInteger(along) ? along * b : yc }
    : { xM: Number.isInteger(along) ? along * b : xc, yM: sj * b };
  // Intersection coordinates of the next stop, and the heading.
  let i: number;
  let j: number;
  let dir: number;
  let first: Point | null = null; // pending partial-block target when starting mid-block
  if (Number.isInteger(along)) {
    i = onVertical ? si : along;
    j = onVertical ? along : sj;
    dir = -2; // choose at the first call
  } else {
    const u = rng();
    const positive = u < 0.5;
    if (onVertical) {
      i = si;
      j = positive ? Math.ceil(along) : Math.floor(along);
      dir = positive ? 1 : 3;
    } else {
      j = sj;
      i = positive ? Math.ceil(along) : Math.floor(along);
      dir = positive ? 0 : 2;
    }
    first = { xM: i * b, yM: j * b };
  }

  const cursor = new LegCursor(start);
  let pending: Leg | null = null;
  let stopped = false;
  const blockLegs = (to: Point): Leg | null => {
    const speedMps = uniform(rng, spec.speedMps[0], spec.speedMps[1]);
    const pauseS = uniform(rng, spec.pauseS[0], spec.pauseS[1]);
    const move = cursor.moveTo(to, speedMps);
    pending = cursor.pauseFor(pauseS);
    return move;
  };
  return {
    start,
    next(): Leg | null {
      if (pending !== null) {
        const leg = pending;
        pending = null;
        return leg;
      }
      if (stopped) return null;
      if (first !== null) {
        const to = first;
        first = null;
        const leg = blockLegs(to);
        if (leg !== null) return leg;
      }
      const u = rng();
      let want: number;
      if (dir < 0) want = Math.min(3, Math.floor(u * 4));
      else if (u < 1 - p) want = dir;
      else want = u < 1 - p / 2 ? (dir + 1) % 4 : (dir + 3) % 4;
      const d = resolve(i, j, want);
      if (d < 0) {
        stopped = true;
        return null;
      }
      dir = d;
      i += DX[d];
      j += DY[d];
      // A block has positive length, so the move is never null.
      return blockLegs({ xM: i * b, yM: j * b });
    },
  };
}
