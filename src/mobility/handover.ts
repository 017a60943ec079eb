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
 * strictly increase along the walk.
 *
 * Cost: two nearest() scans (O(n)) for the ends; if both ends are in one
 * cell the leg has no handover (cells are convex) and we stop there.
 * Otherwise one O(n) pass keeps only the APs close enough to the leg to be
 * nearest somewhere on it (k of them, typically a handful), and the walk
 * and the probes cost O(k·(h + 1)) for h handovers. No allocation besides
 * the result and the probed points.
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
import { ConmigError } from '../model/errors.ts';
import type { AccessPointSpec, Point } from '../model/types.ts';
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
  /** Scratch for handoversAlongLeg (candidate APs and their lines c − s·m); reused, not re-entrant. */
  readonly candidates: Int32Array;
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
    this.candidates = new Int32Array(aps.length);
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

  /**
   * nearest(p) restricted to the APs listed in candidates[0..k), which must
   * be in ascending index order and contain every AP that can be nearest to
   * p; then the result equals nearest(p) (same scan order, same tie rule).
   */
  nearestAmong(p: Point, k: number): number {
    const xs = this.xM;
    const ys = this.yM;
    const cand = this.candidates;
    let best = cand[0];
    let dx = xs[best] - p.xM;
    let dy = ys[best] - p.yM;
    let bestD = dx * dx + dy * dy;
    for (let c = 1; c < k; c++) {
      const i = cand[c];
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
  const startAp = aps.nearest(from);
  const endAp = aps.nearest(to);
  // Voronoi cells are convex: both ends in one cell means the whole leg is.
  if (startAp === endAp) return out;

  // Only APs within R of the segment can be nearest somewhere on it: on
  // p(s), the nearest distance is at most min(d0 + s|v|, d1 + (1 − s)|v|)
  // <= (d0 + d1 + |v|) / 2 = R (d0, d1: distances of the ends to their APs).
  const xs = aps.xM;
  const ys = aps.yM;
  const vv = vx * vx + vy * vy;
  const d0 = Math.hypot(xs[startAp] - from.xM, ys[startAp] - from.yM);
  const d1 = Math.hypot(xs[endAp] - to.xM, ys[endAp] - to.yM);
  const r = (d0 + d1 + Math.sqrt(vv)) / 2;
  const r2 = r * r * (1 + 1e-6) + 1e-9; // slack for rounding and TIE_EPSILON
  const cand = aps.candidates;
  const C = aps.lineC;
  const M = aps.lineM;
  let k = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = xs[i] - from.xM;
    const dy = ys[i] - from.yM;
    const dot = vx * dx + vy * dy;
    const s = dot <= 0 ? 0 : dot >= vv ? 1 : dot / vv;
    const ex = dx - s * vx;
    const ey = dy - s * vy;
    if (ex * ex + ey * ey > r2) continue;
    cand[k] = i;
    C[k] = dx * dx + dy * dy;
    M[k] = 2 * dot;
    k++;
  }
  const durUs = leg.endUs - leg.startUs;

  // Invariant: the AP at integer time lastT is prev.
  let prev = startAp;
  let lastT = leg.startUs;
  const apAt = (t: number): number => aps.nearestAmong(positionAt(leg, t), k);
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

  // Walk the lower envelope of the candidates' lines on [0, 1] (positions in cand).
  let cur = 0;
  while (cand[cur] !== startAp) cur++;
  let s = 0;
  for (;;) {
    let bestS = Infinity;
    let bestJ = -1;
    const cc = C[cur];
    const mc = M[cur];
    for (let j = 0; j < k; j++) {
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
