/**
 * Traffic-aware migration (after Maheshwari et al., ANTS 2018): weigh network
 * latency against the load of the candidate nodes, and migrate only when the
 * expected gain over a horizon pays for the migration.
 *
 * For container c (rate λ req/s, mean service S ms on the reference CPU) and a
 * candidate node n (the current node plus the k nearest to c's users):
 *
 *   S_n       = S / speedFactor_n
 *   A_n       = utilisation_n · cores_n + Δ_n (+ λ S_n / 1000 if n is not c's node)
 *               busy cores (Erlangs) after the move; Δ_n is load moved by earlier
 *               decisions of this step and by migrations in flight
 *   W_n       = M/G/c wait (Allen–Cunneen) with c = cores_n, λ' = A_n / S_n, S_n, scv
 *               (background load is treated as more of the same traffic)
 *   E_n       = RTT_n + W_n + S_n       RTT_n = mean network RTT from c's users
 *
 *   gain      = E_current − E_best
 *   benefit   = gain · λ · horizonS                               [request·ms]
 *   cost      = λ · (downtime/1000) · downtime / 2                [request·ms]
 *               (the expected total wait of the Poisson arrivals during the
 *               stop: λ·D arrivals, each waiting D/2 on average, since
 *               clients hold requests and re-send them when the service answers)
 *             + λ · lazyPagesMs/1000 · postcopyFaultPenaltyMs    (post-copy)
 *             + penaltyReqMs                                     (fixed, per migration)
 *
 *   migrate when gain > marginMs, benefit > cost and
 *   now − lastMigrationEnd > minDwellMs (hysteresis against ping-pong).
 *
 * Containers are visited in view order (greedy, one pass: O(containers · k)).
 * Pruning (exact, not a heuristic): a single-user container already on its
 * RTT-nearest node, whose expected queueing wait there is <= marginMs, on a
 * node no slower than any other, cannot gain more than marginMs anywhere
 * (every candidate has RTT >= and wait >= 0), so its candidates are skipped.
 * Containers without traffic or without a service-time estimate stay put.
 *
 * Incremental (same decisions, less work): with the view's ViewChanges, the
 * RTT-nearest node of a single-user container is remembered between steps and
 * looked up again only after its user's handover; and the pruning's wait test
 * reads a per-node, per-load factor instead of evaluating M/G/c for every
 * container (see waitWithin: exact, with a fallback to the full formula near
 * the bound). Without ViewChanges (a custom backend), everything is evaluated.
 */
import { definePolicy } from './define.ts';
import { NodeOfMemo, OrderMemo, StepLedger, candidatesOf, containerErlangs, fmtMs, meanRttMs, serviceMsOf } from './common.ts';
import { estimateMigration } from '../migration-cost.ts';
import { erlangC, mgcMeanWaitMs } from '../queueing.ts';
import type { ClusterView, ContainerView, MigrationDecision, NodeView } from '../view.ts';
import type { NodeId } from '../types.ts';

export interface TrafficAwareParams extends Record<string, unknown> {
  candidates: number;
  horizonS: number;
  marginMs: number;
  minDwellMs: number;
  penaltyReqMs: number;
  serviceScv: number;
}

/** Expected queueing wait (ms) of container c's requests if it ran on node n (M/G/c, Allen–Cunneen). */
export function expectedWaitMs(
  ledger: StepLedger,
  c: ContainerView,
  n: NodeView,
  serviceMs: number,
  scv: number,
): number {
  const sN = serviceMs / n.speedFactor;
  const own = containerErlangs(c.requestRatePerS, serviceMs, n);
  let busy = n.utilisation * n.cpuCores + ledger.erlangsDelta(n.id);
  busy = n.id === c.nodeId ? Math.max(busy, own) : Math.max(busy, 0) + own;
  const cores = Math.max(1, Math.round(n.cpuCores));
  return busy > 0 ? mgcMeanWaitMs(cores, busy / sN, sN, scv) : 0;
}

/** Expected response time (ms) of container c if it ran on node n. */
export function expectedResponseMs(
  view: ClusterView,
  ledger: StepLedger,
  c: ContainerView,
  n: NodeView,
  serviceMs: number,
  scv: number,
): number {
  return meanRttMs(view, c.users, n.id) + expectedWaitMs(ledger, c, n, serviceMs, scv) + serviceMs / n.speedFactor;
}

/**
 * Whether expectedWaitMs(ledger, c, n, serviceMs, scv) <= marginMs, for c on
 * its own node n, without the M/G/c recursion per container where that is safe.
 *
 * expectedWaitMs computes busy (as below), then Allen–Cunneen with
 * a = (busy / sN) * sN: Wq = C(k, a) · sN / (k − a) · (1 + scv) / 2. Here the
 * factor g = C(k, busy) / (k − busy) · (1 + scv) / 2 is computed once per
 * (node, busy) and the test is g · sN against marginMs. a differs from busy by
 * a couple of ulps and the recursion by a few more, so with busy at least
 * 0.1% of the cores below saturation the two agree to far better than 1e-9
 * relative; within 1e-9 of the margin (or outside those conditions) the full
 * formula decides (and for waits below 1e-200 ms, where doubles turn
 * subnormal). So the answer is always the full formula's.
 */
export function waitWithin(
  ledger: StepLedger,
  c: ContainerView,
  n: NodeView,
  serviceMs: number,
  scv: number,
  marginMs: number,
  factors: Map<NodeView, { busy: number; g: number }>,
): boolean {
  const sN = serviceMs / n.speedFactor;
  const own = containerErlangs(c.requestRatePerS, serviceMs, n);
  const busy = Math.max(n.utilisation * n.cpuCores + ledger.erlangsDelta(n.id), own); // n is c's node
  const cores = Math.max(1, Math.round(n.cpuCores));
  if (busy > 1e-9 && cores - busy >= 1e-3 * cores && Number.isFinite(sN)) {
    let f = factors.get(n);
    if (f === undefined || f.busy !== busy) {
      f = { busy, g: ((erlangC(cores, busy) / (cores - busy)) * (1 + scv)) / 2 };
      factors.set(n, f);
    }
    const w = f.g * sN;
    // Far below 1 the doubles lose relative precision (subnormals): leave those to the formula.
    if (w > 1e-200) {
      if (w <= marginMs * (1 - 1e-9)) return true;
      if (w >= marginMs * (1 + 1e-9)) return false;
    }
  }
  return expectedWaitMs(ledger, c, n, serviceMs, scv) <= marginMs;
}

/** Positions in waitWithinAt's inputs. */
export const WW_RATE = 0;
export const WW_UTIL = 1;
export const WW_SERVICE = 2;
export const WW_SCV = 3;
export const WW_MARGIN = 4;

/**
 * waitWithin with the values it reads passed in (c's rate, n's utilisation,
 * n's position k in view.nodes for the ledger) and the per-node factors in
 * arrays by k (factorBusy NaN = none yet): the same tests in the same
 * arithmetic, without a lookup by id, a map or a boxed getter result per
 * container (decide calls it for nearly every container at every step).
 */
export function waitWithinAt(
  ledger: StepLedger,
  c: ContainerView,
  n: NodeView,
  k: number,
  /** [WW_RATE] c's rate /s, [WW_UTIL] n's utilisation, [WW_SERVICE] serviceMs, [WW_SCV], [WW_MARGIN] marginMs. */
  inputs: Float64Array,
  factorBusy: Float64Array,
  factorG: Float64Array,
): boolean {
  // The doubles come in a typed array, not as arguments: V8 does not inline this function
  // into decide's loop, and a double passed to a call that is not inlined is boxed (a heap
  // number each; 3 per container per step were 1.7 GB of garbage in an hour of metro).
  const ratePerS = inputs[WW_RATE];
  const utilisation = inputs[WW_UTIL];
  const serviceMs = inputs[WW_SERVICE];
  const scv = inputs[WW_SCV];
  const marginMs = inputs[WW_MARGIN];
  // The hot path is kept short (the factor's computation and the full formula are
  // functions of their own, rarely called): decide runs it for nearly every container
  // at every step, and V8 inlines a short function with the view's getters it reads.
  const sN = serviceMs / n.speedFactor;
  const own = (ratePerS / 1000) * (serviceMs / n.speedFactor); // containerErlangs
  const busy = Math.max(utilisation * n.cpuCores + ledger.erlangsDeltaAt(k), own); // n is c's node
  const cores = Math.max(1, Math.round(n.cpuCores));
  if (busy > 1e-9 && cores - busy >= 1e-3 * cores && Number.isFinite(sN)) {
    const g = factorBusy[k] === busy ? factorG[k] : waitFactorAt(k, cores, busy, scv, factorBusy, factorG);
    const w = g * sN;
    if (w > 1e-200) {
      if (w <= marginMs * (1 - 1e-9)) return true;
      if (w >= marginMs * (1 + 1e-9)) return false;
    }
  }
  return expectedWaitMs(ledger, c, n, serviceMs, scv) <= marginMs;
}

/** waitWithinAt's factor g for node position k at this busy, remembered for the next container there. */
function waitFactorAt(k: number, cores: number, busy: number, scv: number, factorBusy: Float64Array, factorG: Float64Array): number {
  const g = ((erlangC(cores, busy) / (cores - busy)) * (1 + scv)) / 2;
  factorBusy[k] = busy;
  factorG[k] = g;
  return g;
}

/**
 * decide's first pass over a container, in a small function of its own (so
 * V8 inlines the view's getters into it and returns a boolean, not boxed
 * doubles): the early exits and the exact pruning, in decide's order.
 */
class Screen {
  private readonly nodeOf: NodeOfMemo;
  // when nodeOf is not usable
  private readonly factors = new Map<NodeView, { busy: number; g: number }>();
  // Per node, for this step: utilisation (read once, NaN = not yet) and waitWithin's factor.
  private readonly utilAt: Float64Array;
  private readonly factorBusy: Float64Array;
  private readonly factorG: Float64Array;
  /** waitWithinAt's inputs, written per container (scv and margin once). */
  private readonly inputs = new Float64Array(5);

  constructor(
    private readonly view: ClusterView,
    private readonly p: Readonly<TrafficAwareParams>,
    private readonly ledger: StepLedger,
    private readonly memo: OrderMemo | undefined,
    private readonly maxSpeed: number,
  ) {
    this.nodeOf = NodeOfMemo.forStep(view);
    const N = view.nodes.length;
    this.utilAt = new Float64Array(N).fill(Number.NaN);
    this.factorBusy = new Float64Array(N).fill(Number.NaN);
    this.factorG = new Float64Array(N);
    this.inputs[WW_SCV] = p.serviceScv;
    this.inputs[WW_MARGIN] = p.marginMs;
  }

  /**
   * Container i (= c) stays where it is without a full evaluation: not eligible, or pruned exactly.
   * Kept short, with the rare cases in staysSlow: decide calls it for every container at every step,
   * and V8 inlines the view's getters into it only while its inlined code stays within a budget.
   */
  stays(i: number, c: ContainerView): boolean {
    const view = this.view;
    const p = this.p;
    if (c.migrating || c.users.length === 0) return true;
    const rate = c.requestRatePerS;
    if (!(rate > 0)) return true;
    if (!(view.nowMs - c.lastMigrationEndMs > p.minDwellMs)) return true;
    const nodeId = c.nodeId;
    const k = this.nodeOf.indexOf(i, nodeId);
    if (k < 0) return this.staysSlow(i, c, nodeId);
    const from = view.nodes[k];
    const serviceMs = serviceMsOf(c, from);
    if (!(serviceMs > 0)) return true;

    // Exact pruning (see the header), checked before any RTT is computed.
    const memo = this.memo;
    if (c.users.length === 1 && from.speedFactor >= this.maxSpeed && (memo ? memo.nearest(i, c) : view.nodesByRtt(c.users[0])[0]) === nodeId) {
      let util = this.utilAt[k];
      if (util !== util) util = this.utilisationAt(k, from);
      const inputs = this.inputs;
      inputs[WW_RATE] = rate;
      inputs[WW_UTIL] = util;
      inputs[WW_SERVICE] = serviceMs;
      return waitWithinAt(this.ledger, c, from, k, inputs, this.factorBusy, this.factorG);
    }
    return false;
  }

  /** stays' remaining tests for a container whose node has no position (view.node is not view.nodes[k]). */
  private staysSlow(i: number, c: ContainerView, nodeId: NodeId): boolean {
    const view = this.view;
    const p = this.p;
    const from = view.node(nodeId);
    const serviceMs = serviceMsOf(c, from);
    if (!(serviceMs > 0)) return true;
    const memo = this.memo;
    if (c.users.length === 1 && from.speedFactor >= this.maxSpeed && (memo ? memo.nearest(i, c) : view.nodesByRtt(c.users[0])[0]) === nodeId) {
      return waitWithin(this.ledger, c, from, serviceMs, p.serviceScv, p.marginMs, this.factors);
    }
    return false;
  }

  /** Node k's utilisation, read once per step. */
  private utilisationAt(k: number, n: NodeView): number {
    const util = n.utilisation;
    this.utilAt[k] = util;
    return util;
  }
}

export const trafficAwarePolicy = definePolicy<TrafficAwareParams>({
  name: 'traffic-aware',
  defaults: { candidates: 4, horizonS: 60, marginMs: 5, minDwellMs: 10_000, penaltyReqMs: 0, serviceScv: 1 },
  validate: (p) => {
    const problems: string[] = [];
    if (!Number.isInteger(p.candidates) || p.candidates < 1) problems.push('candidates: must be an integer >= 1');
    for (const k of ['horizonS', 'marginMs', 'minDwellMs', 'penaltyReqMs', 'serviceScv'] as const) {
      if (!(p[k] >= 0)) problems.push(`${k}: must be >= 0`);
    }
    return problems;
  },
  decide(view, p) {
    const out: MigrationDecision[] = [];
    const ledger = new StepLedger(view);
    const cands: NodeId[] = [];
    const cost = view.migrationCost;
    let maxSpeed = 0;
    for (const n of view.nodes) if (n.speedFactor > maxSpeed) maxSpeed = n.speedFactor;
    const memo = OrderMemo.forStep(view);
    const screen = new Screen(view, p, ledger, memo, maxSpeed);
    const containers = view.containers;
    for (let i = 0; i < containers.length; i++) {
      const c = containers[i];
      if (screen.stays(i, c)) continue;
      // Evaluated in full (the values as screen read them: the view does not change during decide).
      const rate = c.requestRatePerS;
      const from = view.node(c.nodeId);
      const serviceMs = serviceMsOf(c, from);
      const currentMs = expectedResponseMs(view, ledger, c, from, serviceMs, p.serviceScv);
      let best: NodeView | undefined;
      let bestMs = currentMs;
      for (const id of candidatesOf(view, memo, i, c, p.candidates, cands)) {
        if (id === c.nodeId) continue;
        const n = view.node(id);
        if (ledger.freeMiB(n) < c.memoryMiB) continue;
        const e = expectedResponseMs(view, ledger, c, n, serviceMs, p.serviceScv);
        if (e < bestMs) {
          best = n;
          bestMs = e;
        }
      }
      if (!best) continue;
      const gain = currentMs - bestMs;
      if (!(gain > p.marginMs)) continue;

      const path = view.path(from.id, best.id);
      const est = estimateMigration({
        memoryMiB: c.memoryMiB,
        imageMiB: c.imageMiB,
        dirtyRateMiBps: c.dirtyRateMiBps,
        mode: view.defaultMigrationMode,
        bandwidthMbps: path.bandwidthMbps,
        pathLatencyMs: path.latencyMs,
        cost,
      });
      const costReqMs =
        ((rate * est.downtimeMs) / 1000) * (est.downtimeMs / 2) +
        ((rate * est.phases.lazyPagesMs) / 1000) * (est.mode === 'postcopy' ? cost.postcopyFaultPenaltyMs : 0) +
        p.penaltyReqMs;
      const benefitReqMs = gain * rate * p.horizonS;
      if (!(benefitReqMs > costReqMs)) continue;

      ledger.recordMove(c, from, best, serviceMs);
      out.push({
        containerId: c.id,
        to: best.id,
        reason:
          `expected ${fmtMs(bestMs)} ms at ${best.id} vs ${fmtMs(currentMs)} ms at ${from.id}; ` +
          `gain ${fmtMs(gain)} ms x ${rate.toFixed(1)} req/s x ${p.horizonS} s = ${benefitReqMs.toFixed(0)} req·ms ` +
          `> cost ${costReqMs.toFixed(0)} req·ms (downtime ${fmtMs(est.downtimeMs)} ms)`,
      });
    }
    return out;
  },
});
