/**
 * Where the simulator's users are: each user's current leg as numbers (no
 * Point allocated per request), the handovers along it as events, and the
 * next leg (from src/mobility) when one ends.
 */
import { ConmigError } from '../model/errors.ts';
import type { LatencyModel } from '../model/latency.ts';
import type { Point, Scenario } from '../model/types.ts';
import { ApIndex, createLegSource, handoversAlongLeg, type LegSource, type TraceStore } from '../mobility/index.ts';
import { Priority, type Engine } from './engine.ts';

/** A handover event's argument packs (user, access point) into one number: user * AP_SLOTS + ap. */
const AP_SLOTS = 65536;

export class SimMotion {
  /** Access point each user is attached to now (updated at handovers). */
  readonly userAp: Int32Array;
  // Current leg of each user as numbers (a pause or no leg: both ends equal).
  private readonly legT0: Float64Array;
  private readonly legT1: Float64Array;
  private readonly legX0: Float64Array;
  private readonly legY0: Float64Array;
  private readonly legX1: Float64Array;
  private readonly legY1: Float64Array;
  /** Scratch output of locate(): no Point allocated per request. */
  posX = 0;
  posY = 0;
  private readonly legSources: LegSource[];
  private readonly apIndex: ApIndex;

  constructor(
    scenario: Scenario,
    seed: number,
    traces: TraceStore | undefined,
    private readonly engine: Engine,
    private readonly endUs: number,
    private readonly latency: LatencyModel,
    private readonly userPayloadKiB: Float64Array,
  ) {
    const topo = scenario.topology;
    const U = scenario.users.length;
    // Handover events pack (user, access point) into one exact integer: both must fit.
    if (topo.accessPoints.length > AP_SLOTS || U * AP_SLOTS > Number.MAX_SAFE_INTEGER) {
      throw new ConmigError('SCENARIO_INVALID', `the simulator handles at most ${AP_SLOTS} access points and ${Math.floor(Number.MAX_SAFE_INTEGER / AP_SLOTS)} users, got ${topo.accessPoints.length} and ${U}`, {
        problems: [{ path: 'topology.accessPoints', message: `expected at most ${AP_SLOTS} access points` }],
      });
    }
    this.userAp = new Int32Array(U);
    this.legT0 = new Float64Array(U);
    this.legT1 = new Float64Array(U);
    this.legX0 = new Float64Array(U);
    this.legY0 = new Float64Array(U);
    this.legX1 = new Float64Array(U);
    this.legY1 = new Float64Array(U);
    this.legSources = [];
    this.apIndex = new ApIndex(topo.accessPoints);
    scenario.users.forEach((u, i) => {
      const src = createLegSource(u, { areaM: topo.areaM, seed, traces });
      this.legSources.push(src);
      this.legX0[i] = this.legX1[i] = src.start.xM;
      this.legY0[i] = this.legY1[i] = src.start.yM;
      this.userAp[i] = this.apIndex.nearest(src.start);
    });
  }

  /** Every user's first leg (and its handovers). */
  start(): void {
    for (let u = 0; u < this.legSources.length; u++) this.nextLeg(u);
  }

  /** Sets posX/posY to user u's position at time t (on its current leg). */
  locate(u: number, timeUs: number): void {
    const t0 = this.legT0[u];
    const t1 = this.legT1[u];
    if (timeUs >= t1) {
      this.posX = this.legX1[u];
      this.posY = this.legY1[u];
    } else if (timeUs <= t0) {
      this.posX = this.legX0[u];
      this.posY = this.legY0[u];
    } else {
      const f = (timeUs - t0) / (t1 - t0);
      this.posX = this.legX0[u] + f * (this.legX1[u] - this.legX0[u]);
      this.posY = this.legY0[u] + f * (this.legY1[u] - this.legY0[u]);
    }
  }

  positionOf(u: number, timeUs: number): Point {
    this.locate(u, timeUs);
    return { xM: this.posX, yM: this.posY };
  }

  /** Network RTT (ms) of user u's request to node n at time t. */
  rttMs(u: number, n: number, timeUs: number): number {
    this.locate(u, timeUs);
    return this.latency.networkRttMsXY(this.posX, this.posY, this.userAp[u], n, this.userPayloadKiB[u]);
  }

  /** Nodes by RTT from user u now (indices). */
  nodeOrder(u: number): readonly number[] {
    return this.latency.nodeOrderAt(this.positionOf(u, this.engine.now), this.userAp[u], this.userPayloadKiB[u]);
  }

  private nextLeg(u: number): void {
    const leg = this.legSources[u].next();
    if (leg === null) {
      // Stay at the end of the last leg for ever.
      this.legX0[u] = this.legX1[u];
      this.legY0[u] = this.legY1[u];
      this.legT0[u] = this.legT1[u] = 0;
      return;
    }
    this.legT0[u] = leg.startUs;
    this.legT1[u] = leg.endUs;
    this.legX0[u] = leg.from.xM;
    this.legY0[u] = leg.from.yM;
    this.legX1[u] = leg.to.xM;
    this.legY1[u] = leg.to.yM;
    for (const h of handoversAlongLeg(leg, this.apIndex)) {
      if (h.atUs > this.endUs) break;
      this.engine.scheduleAt(h.atUs, Priority.mobility, this.onHandover, u * AP_SLOTS + h.apIndex);
    }
    if (leg.endUs <= this.endUs) this.engine.scheduleAt(leg.endUs, Priority.mobility, this.onLegEnd, u);
  }

  private readonly onHandover = (arg: number): void => {
    const u = Math.floor(arg / AP_SLOTS);
    this.userAp[u] = arg - u * AP_SLOTS;
  };

  private readonly onLegEnd = (u: number): void => {
    this.nextLeg(u);
  };
}
