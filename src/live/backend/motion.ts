/**
 * Where each emulated user is, in scenario time: the simulator's own mobility
 * (createLegSource, same seed and streams, so a live run and its simulation
 * move the users along the same paths), evaluated at the scaled wall clock.
 * Queries must come with non-decreasing times (legs are consumed in order).
 */
import type { Point, Scenario } from '../../model/types.ts';
import { ApIndex, createLegSource, positionAt, type Leg, type LegSource, type TraceStore } from '../../mobility/index.ts';

export class UserMotion {
  private readonly sources: LegSource[];
  private readonly legs: (Leg | null)[];
  private readonly last: Point[];
  private readonly done: boolean[];
  readonly apIndex: ApIndex;

  constructor(scenario: Scenario, seed: number, traces?: TraceStore) {
    this.apIndex = new ApIndex(scenario.topology.accessPoints);
    this.sources = scenario.users.map((u) => createLegSource(u, { areaM: scenario.topology.areaM, seed, traces }));
    this.legs = this.sources.map(() => null);
    this.last = this.sources.map((s) => s.start);
    this.done = this.sources.map(() => false);
  }

  /** Position of user `u` at scenario time `scenUs`. */
  positionAt(u: number, scenUs: number): Point {
    let leg = this.legs[u];
    while (!this.done[u] && (leg === null || scenUs >= leg.endUs)) {
      if (leg !== null) this.last[u] = leg.to;
      const next = this.sources[u].next();
      if (next === null) {
        this.done[u] = true;
        leg = null;
        break;
      }
      leg = next;
    }
    this.legs[u] = leg;
    return leg === null ? this.last[u] : positionAt(leg, scenUs);
  }

  /** Index of the access point nearest to `p` (the scenario always has at least one). */
  apOf(p: Point): number {
    return this.apIndex.nearest(p);
  }
}
