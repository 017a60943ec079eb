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

/**
 * Fields of one user's record in SimMotion.leg: the current leg, the access point and
 * the payload, then two fields of the request path's (src/sim/requests.ts: the user's
 * container and timeout, USER_CONTAINER and USER_TIMEOUT). A request reads all of them,
 * so they share one record: at 100,000 users the per-user state does not stay in the
 * caches, and a second array was a second cache miss per request.
 */
export const LEG = 10;
const T0 = 0;
const T1 = 1;
const X0 = 2;
const Y0 = 3;
const X1 = 4;
const Y1 = 5;
/** The user's access point now (a copy of userAp, which the view reads). */
const AP = 6;
/** Request + response KiB of the user's requests. */
const PAYLOAD = 7;
/** The user's container (written and read by SimRequests). */
export const USER_CONTAINER = 8;
/** The user's request timeout in µs (written and read by SimRequests). */
export const USER_TIMEOUT = 9;

/** A handover event's argument packs (user, access point) into one number: user * AP_SLOTS + ap. */
const AP_SLOTS = 65536;

export class SimMotion {
  /** Access point each user is attached to now (updated at handovers). */
  readonly userAp: Int32Array;
  /**
   * Current leg of each user as numbers (a pause or no leg: both ends equal),
   * with its access point and payload, interleaved: leg[u * LEG + T0 .. PAYLOAD],
   * and the request path's two fields (see LEG).
   */
  readonly leg: Float64Array;
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
    this.leg = new Float64Array(U * LEG);
    this.legSources = [];
    this.apIndex = new ApIndex(topo.accessPoints);
    scenario.users.forEach((u, i) => {
      const src = createLegSource(u, { areaM: topo.areaM, seed, traces });
      this.legSources.push(src);
      this.leg[i * LEG + X0] = this.leg[i * LEG + X1] = src.start.xM;
      this.leg[i * LEG + Y0] = this.leg[i * LEG + Y1] = src.start.yM;
      this.userAp[i] = this.apIndex.nearest(src.start);
      this.leg[i * LEG + AP] = this.userAp[i];
      this.leg[i * LEG + PAYLOAD] = this.userPayloadKiB[i];
    });
  }

  /** Every user's first leg (and its handovers). */
  start(): void {
    for (let u = 0; u < this.legSources.length; u++) this.nextLeg(u);
  }

  /** Sets posX/posY to user u's position at time t (on its current leg). */
  locate(u: number, timeUs: number): void {
    const leg = this.leg;
    const b = u * LEG;
    const t0 = leg[b + T0];
    const t1 = leg[b + T1];
    if (timeUs >= t1) {
      this.posX = leg[b + X1];
      this.posY = leg[b + Y1];
    } else if (timeUs <= t0) {
      this.posX = leg[b + X0];
      this.posY = leg[b + Y0];
    } else {
      const f = (timeUs - t0) / (t1 - t0);
      this.posX = leg[b + X0] + f * (leg[b + X1] - leg[b + X0]);
      this.posY = leg[b + Y0] + f * (leg[b + Y1] - leg[b + Y0]);
    }
  }

  positionOf(u: number, timeUs: number): Point {
    this.locate(u, timeUs);
    return { xM: this.posX, yM: this.posY };
  }

  /** Network RTT (ms) of user u's request to node n at time t. */
  rttUs(u: number, n: number, timeUs: number): number {
    this.locate(u, timeUs);
    const b = u * LEG;
    // Rounded here, not by the caller: an integer return is a small integer, a double returned
    // by a call V8 does not inline is a heap number (one per request: 350 MB an hour of metro).
    return Math.round(this.latency.networkRttMsXY(this.posX, this.posY, this.leg[b + AP], n, this.leg[b + PAYLOAD]) * 1000);
  }

  /**
   * The RTT for the view (policies asking about users and nodes), in ms and not
   * rounded: rttUs's arithmetic in a function of its own, so the request path's rttUs keeps
   * its own type feedback and stays inlined into the request code (called
   * from both, it was not, and the run under traffic-aware paid ~1.5 s an hour).
   */
  viewRttMs(u: number, n: number, timeUs: number): number {
    this.locate(u, timeUs);
    const b = u * LEG;
    return this.latency.networkRttMsXY(this.posX, this.posY, this.leg[b + AP], n, this.leg[b + PAYLOAD]);
  }

  /** Nodes by RTT from user u now (indices). */
  nodeOrder(u: number): readonly number[] {
    return this.latency.nodeOrderAt(this.positionOf(u, this.engine.now), this.userAp[u], this.userPayloadKiB[u]);
  }

  private nextLeg(u: number): void {
    const leg = this.legSources[u].next();
    const l = this.leg;
    const b = u * LEG;
    if (leg === null) {
      // Stay at the end of the last leg for ever.
      l[b + X0] = l[b + X1];
      l[b + Y0] = l[b + Y1];
      l[b + T0] = l[b + T1] = 0;
      return;
    }
    l[b + T0] = leg.startUs;
    l[b + T1] = leg.endUs;
    l[b + X0] = leg.from.xM;
    l[b + Y0] = leg.from.yM;
    l[b + X1] = leg.to.xM;
    l[b + Y1] = leg.to.yM;
    for (const h of handoversAlongLeg(leg, this.apIndex)) {
      if (h.atUs > this.endUs) break;
      this.engine.scheduleAt(h.atUs, Priority.mobility, this.onHandover, u * AP_SLOTS + h.apIndex);
    }
    if (leg.endUs <= this.endUs) this.engine.scheduleAt(leg.endUs, Priority.mobility, this.onLegEnd, u);
  }

  private readonly onHandover = (arg: number): void => {
    const u = Math.floor(arg / AP_SLOTS);
    const ap = arg - u * AP_SLOTS;
    this.userAp[u] = ap;
    this.leg[u * LEG + AP] = ap;
  };

  private readonly onLegEnd = (u: number): void => {
    this.nextLeg(u);
  };
}
