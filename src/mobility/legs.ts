/**
 * Leg arithmetic shared by the mobility models: position on a leg, and a
 * cursor that turns "move there at this speed" / "pause this long" into
 * contiguous integer-µs legs.
 */
import type { Point } from '../model/types.ts';
import { US_PER_S } from '../model/units.ts';
import type { Leg } from './types.ts';

export { US_PER_S } from '../model/units.ts';

/**
 * Position on `leg` at `timeUs`, clamped to the leg's ends: exactly `leg.from`
 * at or before startUs and exactly `leg.to` at or after endUs (so the next
 * leg's start position is bit-identical). O(1), no allocation beyond the result.
 */
export function positionAt(leg: Leg, timeUs: number): Point {
  if (timeUs <= leg.startUs) return leg.from;
  if (timeUs >= leg.endUs) return leg.to;
  const f = (timeUs - leg.startUs) / (leg.endUs - leg.startUs);
  return {
    xM: leg.from.xM + f * (leg.to.xM - leg.from.xM),
    yM: leg.from.yM + f * (leg.to.yM - leg.from.yM),
  };
}

export function distanceM(a: Point, b: Point): number {
  return Math.hypot(b.xM - a.xM, b.yM - a.yM);
}

/** Duration in whole µs of a positive length; at least 1 µs so that endUs > startUs. */
function durationUs(seconds: number): number {
  return Math.max(1, Math.round(seconds * US_PER_S));
}

/**
 * Builds contiguous legs. Internal to the mobility models.
 * Rounding each leg to whole µs makes the effective speed differ from the
 * drawn one by at most 0.5 µs / leg duration (relative).
 */
export class LegCursor {
  timeUs = 0;
  pos: Point;

  constructor(start: Point) {
    this.pos = start;
  }

  /** Move to `to` at `speedMps`; null (and no change) if `to` is the current position. */
  moveTo(to: Point, speedMps: number): Leg | null {
    const d = distanceM(this.pos, to);
    if (d === 0) return null;
    return this.emit(to, this.timeUs + durationUs(d / speedMps));
  }

  /** Pause for `seconds`; null if it rounds to zero µs. */
  pauseFor(seconds: number): Leg | null {
    const us = Math.round(seconds * US_PER_S);
    if (us <= 0) return null;
    return this.emit(this.pos, this.timeUs + us);
  }

  /** Move (or pause, if `to` is the current position) so as to arrive at `endUs`; null if endUs is not later than now. */
  arriveAt(to: Point, endUs: number): Leg | null {
    if (endUs <= this.timeUs) return null;
    return this.emit(to, endUs);
  }

  private emit(to: Point, endUs: number): Leg {
    const leg: Leg = { startUs: this.timeUs, endUs, from: this.pos, to };
    this.timeUs = endUs;
    this.pos = to;
    return leg;
  }
}
