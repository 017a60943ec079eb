/**
 * Mobility types for the event-driven simulator.
 *
 * A user's trajectory is a sequence of linear legs, contiguous in time and
 * space: the first leg starts at t = 0 at `LegSource.start`, and every leg
 * starts exactly when and where the previous one ended (`from` is the same
 * object as the previous `to`). Times are integer microseconds of scenario time.
 */
import type { Point } from '../model/types.ts';

/** Linear motion from `from` at `startUs` to `to` at `endUs`; from == to is a pause. endUs > startUs, both integers. */
export interface Leg {
  startUs: number;
  endUs: number;
  from: Point;
  to: Point;
}

/**
 * Pull-based trajectory of one user. The simulator asks for the next leg only
 * when the current one ends. `next()` returning null means the user stays at
 * the last position (or at `start` if no leg was ever returned) forever;
 * after the first null every later call returns null too.
 */
export interface LegSource {
  /**
   * Position at t = 0. Equals `UserSpec.start` except for: straight-path
   * (the path's `from`), manhattan (the start snapped onto the nearest
   * street) and trace (the user's first trace point).
   */
  readonly start: Point;
  next(): Leg | null;
}

/** One fix of a trace, after parsing: integer µs since scenario start, metres. Sorted by time, times strictly increasing. */
export interface TracePoint {
  timeUs: number;
  xM: number;
  yM: number;
}

export type TraceFormat = 'csv' | 'cabspotting';

/** User key (as in the trace) -> points; keys in order of first appearance (csv) or cab name order (cabspotting). */
export type TraceData = Map<string, TracePoint[]>;

/** Parsed traces, loaded once per (file, format) and cached. */
export interface TraceStore {
  get(file: string, format: TraceFormat): TraceData;
}
