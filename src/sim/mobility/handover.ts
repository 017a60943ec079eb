/**
 * Nearest-access-point attachment and exact handover times along a leg.
 *
 * A user is attached to the nearest access point (Voronoi cells), ties to
 * the lower index. Along a leg p(s) = from + s·v, s ∈ [0, 1], v = to − from:
 *   |p(s) − a_i|² = s²|v|² − 2s·v·(a_i − from) + |a_i − from|²
 * The s² term is common to all APs, so the nearest AP minimises the line
 *   f_i(s) = c_i − s·m_i,  c_i = |a_i − from|²,  m_i = 2·v·(a_i − from),
 * and the handovers are the breakpoints of the lower envelope of these lines
 * on [0, 1]. We walk the envelope: from the current minimal line, the next
 * one is the line with a larger slope m that crosses it earliest. Slopes
 * strictly increase along the walk, so a leg costs O(n·(h + 1)) for n APs
 * and h handovers, with no allocation besides the result.
 *
 * Integer time: a crossing at real time τ becomes a handover at an integer
 * µs. To be exactly consistent with `ApIndex.nearest` (which the simulator
 * uses elsewhere), the AP at each candidate time ceil(τ) and ceil(τ) + 1, and
 * at endUs, is taken from `nearest(positionAt(leg, t))`; a change is reported
 * at the first probed time where it shows, after checking that nearest() at
 * the µs before still gives the previous AP (if not, which only happens when
 * rounding makes the lines and nearest() disagree, the first change is found
 * by bisection). So at every reported atUs nearest() gives the reported AP
 * and at atUs − 1 the previous one. Consequences: times strictly
 * increase; several crossings within one µs collapse to the last AP; the
 * AP after the last handover equals nearest(leg.to), i.e. the AP at the start
 * of the next leg, so the simulator needs no check between legs.
 */
import { ConmigError } from '../../model/errors.ts';
import type { AccessPointSpec, Point } from '../../model/types.ts';
import { positionAt } from './legs.ts';
import type { Leg } from './types.ts';

export interface Handover {
  /** From this time on (integer µs, startUs < atUs <= endUs) the user is attached to apIndex. */
  atUs: number;
  apIndex: number;
}

/** Relative tolerance under which two squared distances are a tie (see ApIndex.nearest). */
export const TIE_EPSILON = 1e-12;

/** Access point positions for nearest-AP queries. A linear scan: O(n), no allocation; fine for n up to a few hundred. */
export class ApIndex {
  readonly size: number;
  readonly xM: Float64Array;
  readonly yM: Float64Array;
  /** Scratch for handoversAlongLeg (lines c_i − s·m_i); reused, not re-entrant. */
  readonly lineC: Float64Array;
  readonly lineM: Float64Array;

  constructor(aps: readonly AccessPointSpec[]) {
    if (aps.length === 0) {
      throw new ConmigError('SCENARIO_INVALID', 'topology.accessPoints: at least one access point is needed to attach users', {
        context: { field: 'topology.accessPoints' },
        problems: [{ path: 'topology.accessPoints', message: 'expected at least one access point' }],
      });
    }
    this.size = aps.length;
    this.xM = Float64Array.from(aps, (a) => a.position.xM);
    this.yM = Float64Array.from(aps, (a) => a.position.yM);
    this.lineC = new Float64Array(aps.length);
    this.lineM = new Float64Array(aps.length);
  }

  /**
   * Index of the nearest access point to `p`; ties go to the lower index.
   * Squared distances within a relative TIE_EPSILON of the best so far count
   * as ties: a user walking along a Voronoi edge (exactly equidistant, e.g.
   * on a street between two APs) would otherwise flip between the two cells
   * at every µs from floating-point noise. 1e-12 of a squared distance is far
   * below any physical meaning (under a nanometre at city scale).
   */
  nearest(p: Point): number {
    const xs = this.xM;
    const ys = this.yM;
    let best = 0;
    let dx = xs[0] - p.xM;
    let dy = ys[0] - p.yM;
    let bestD = dx * dx + dy * dy;
    for (let i = 1; i < xs.length; i++) {
      dx = xs[i] - p.xM;
      dy = ys[i] - p.yM;
      const d = dx * dx + dy * dy;
      if (d < bestD - bestD * TIE_EPSILON) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }
}

/**
 * AP changes along `leg`, in time order: the user is attached to apIndex from
 * atUs on. Excludes the AP at leg start (nearest(leg.from)); includes a change
 * at endUs. A pause leg has none.
 */
export function handoversAlongLeg(leg: Leg, aps: ApIndex): Handover[] {
  const { from, to } = leg;
  const vx = to.xM - from.xM;
  const vy = to.yM - from.yM;
  const out: Handover[] = [];
  if (vx === 0 && vy === 0) return out;
  const n = aps.size;
  const C = aps.lineC;
  const M = aps.lineM;
  for (let i = 0; i < n; i++) {
    const dx = aps.xM[i] - from.xM;
    const dy = aps.yM[i] - from.yM;
    C[i] = dx * dx + dy * dy;
    M[i] = 2 * (vx * dx + vy * dy);
  }
  const startAp = aps.nearest(from);
  const durUs = leg.endUs - leg.startUs;

  // Invariant: the AP at integer time lastT is prev.
  let prev = startAp;
  let lastT = leg.startUs;
  const apAt = (t: number): number => aps.nearest(positionAt(leg, t));
  const probe = (t: number): void => {
    while (t > lastT && t <= leg.endUs) {
      const a = apAt(t);
      if (a === prev) {
        lastT = t;
        return;
      }
      // The change shows at t; normally t - 1 is still on prev. If not (the
      // envelope and nearest() disagree by rounding), bisect (lastT, t - 1]
      // for the first time it shows, report that and probe t again.
      let hi = t;
      let hiAp = a;
      if (t - 1 > lastT && apAt(t - 1) !== prev) {
        let lo = lastT;
        hi = t - 1;
        while (hi - lo > 1) {
          const mid = lo + Math.floor((hi - lo) / 2);
          if (apAt(mid) === prev) lo = mid;
          else hi = mid;
        }
        hiAp = apAt(hi);
      }
      out.push({ atUs: hi, apIndex: hiAp });
      prev = hiAp;
      lastT = hi;
    }
  };

  // Walk the lower envelope of the lines on [0, 1].
  let cur = startAp;
  let s = 0;
  for (;;) {
    let bestS = Infinity;
    let bestJ = -1;
    const cc = C[cur];
    const mc = M[cur];
    for (let j = 0; j < n; j++) {
      const dm = M[j] - mc;
      if (dm <= 0) continue;
      let sj = (C[j] - cc) / dm;
      if (sj < s) sj = s; // already (numerically) at or below: takes over now
      if (sj < bestS || (sj === bestS && M[j] > M[bestJ])) {
        bestS = sj;
        bestJ = j;
      }
    }
    if (bestJ < 0 || bestS > 1) break;
    cur = bestJ;
    s = bestS;
    const t = Math.ceil(leg.startUs + s * durUs);
    probe(t);
    probe(t + 1);
  }
  probe(leg.endUs);
  return out;
}
