/**
 * Synthetic mobility models: static, random waypoint and straight path.
 * Manhattan grid is in manhattan.ts, trace replay in trace.ts.
 * Each model is a LegSource over its own seeded stream; it draws a fixed
 * number of random values per leg so streams stay aligned across runs.
 */
import { ConmigError } from '../model/errors.ts';
import { uniform, type Rng } from '../model/random.ts';
import type { MobilitySpec, Point, UserSpec } from '../model/types.ts';
import { LegCursor } from './legs.ts';
import type { Leg, LegSource } from './types.ts';

export interface Area {
  width: number;
  height: number;
}

type Spec<K extends MobilitySpec['kind']> = Extract<MobilitySpec, { kind: K }>;

/** Throw SCENARIO_INVALID for a bad mobility parameter of `userId`. */
export function invalidMobility(userId: string, field: string, message: string): never {
  const path = `users[${userId}].mobility.${field}`;
  throw new ConmigError('SCENARIO_INVALID', `${path}: ${message}`, {
    context: { user: userId, field: path },
    problems: [{ path, message }],
  });
}

/** Checks a [lo, hi] range: finite, lo <= hi, lo >= min (or > min when `strict`). */
export function checkRange(
  userId: string,
  field: string,
  range: readonly [number, number],
  min: number,
  strict: boolean,
): void {
  const [lo, hi] = range;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi || (strict ? lo <= min : lo < min)) {
    invalidMobility(userId, field, `expected [lo, hi] with ${strict ? `${min} < lo` : `${min} <= lo`} <= hi, got [${lo}, ${hi}]`);
  }
}

/** The user never moves: no legs at all. */
export function staticSource(user: UserSpec): LegSource {
  return { start: user.start, next: () => null };
}

/**
 * Random waypoint: destination uniform in the area, speed uniform in
 * speedMps, then a pause uniform in pauseS (zero-length pauses are skipped).
 * Draws per cycle, in order: x, y, speed, pause.
 *
 * Known issue (Yoon, Liu, Noble, "Random waypoint considered harmful",
 * INFOCOM 2003): the time-average speed decays from the mean of the speed
 * range towards a lower steady state, because slow trips last longer; with
 * a lower bound of 0 the average speed tends to 0. We therefore require
 * speedMps[0] > 0, and results should discard a warm-up (the scenario's
 * warmupS). Users start at UserSpec.start, not from the stationary
 * distribution.
 */
export function randomWaypointSource(user: UserSpec, spec: Spec<'random-waypoint'>, area: Area, rng: Rng): LegSource {
  checkRange(user.id, 'speedMps', spec.speedMps, 0, true);
  checkRange(user.id, 'pauseS', spec.pauseS, 0, false);
  const cursor = new LegCursor(user.start);
  let pending: Leg | null = null;
  return {
    start: user.start,
    next(): Leg | null {
      if (pending !== null) {
        const leg = pending;
        pending = null;
        return leg;
      }
      for (;;) {
        const dest: Point = { xM: rng() * area.width, yM: rng() * area.height };
        const speedMps = uniform(rng, spec.speedMps[0], spec.speedMps[1]);
        const pauseS = uniform(rng, spec.pauseS[0], spec.pauseS[1]);
        const move = cursor.moveTo(dest, speedMps);
        const pause = cursor.pauseFor(pauseS);
        if (move !== null) {
          pending = pause;
          return move;
        }
        if (pause !== null) return pause;
      }
    },
  };
}

/** From `from` to `to` at speedMps, then stop, or walk back and forth forever ('bounce'). */
export function straightPathSource(user: UserSpec, spec: Spec<'straight-path'>): LegSource {
  if (!(spec.speedMps > 0) || !Number.isFinite(spec.speedMps)) {
    invalidMobility(user.id, 'speedMps', `expected a finite speed > 0, got ${spec.speedMps}`);
  }
  const cursor = new LegCursor(spec.from);
  let done = false;
  let target = spec.to;
  return {
    start: spec.from,
    next(): Leg | null {
      if (done) return null;
      const leg = cursor.moveTo(target, spec.speedMps);
      if (leg === null || spec.atEnd === 'stop') done = true;
      target = target === spec.to ? spec.from : spec.to;
      return leg;
    },
  };
}
