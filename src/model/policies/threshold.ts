/**
 * ShareOn's rule (decision.py, polled every control step): when a
 * container's delay exceeds the QoS threshold, move it to the node with the
 * lowest network latency to its user(s); stay if that is the current node.
 *
 * The delay (`signal`):
 *  - 'current' (default, decision.py's): the latest measured time on the node
 *    (queue + service of the most recent completed request: its response
 *    without network and migration wait) plus the network RTT from the
 *    user's position NOW to the container's node. decision.py adds the latest
 *    ALPR processing time to |C_e - p| at the current tick and never
 *    averages; this is that sum, from what a controller can measure.
 *  - 'last': the most recent completed request's response (network at the
 *    time it was sent), without its migration wait.
 *  - 'mean': the mean response over the metrics window, without migration waits.
 * None of them counts the time a request was held while this container
 * migrated: that is the migration's downtime, not the latency of a node or
 * of the network (README, "The controller's view"). A container without
 * observations is left alone.
 *
 * Difference from decision.py: a node without memory room is skipped in favour
 * of the next nearest, instead of issuing a move that would be rejected.
 *
 * Incremental: with the view's ViewChanges the candidate nodes of a container
 * are kept between steps and collected again only after a handover of one of
 * its users (OrderMemo in common.ts); the decisions are the same.
 */
import { definePolicy } from './define.ts';
import { OrderMemo, StepLedger, candidatesOf, fmtMs, meanRttMs, serviceMsOf } from './common.ts';
import type { ClusterView, ContainerView, MigrationDecision } from '../view.ts';
import type { NodeId } from '../types.ts';

export const THRESHOLD_SIGNALS = ['current', 'last', 'mean'] as const;
export type ThresholdSignal = (typeof THRESHOLD_SIGNALS)[number];

/** The delay a signal reads for a container (NaN when it has no observation yet). */
export function thresholdDelayMs(view: ClusterView, c: ContainerView, signal: ThresholdSignal): number {
  switch (signal) {
    case 'current': {
      const nodeMs = c.lastResponseMs - c.lastNetworkMs;
      return Number.isNaN(nodeMs) ? nodeMs : nodeMs + meanRttMs(view, c.users, c.nodeId);
    }
    case 'last':
      return c.lastResponseMs;
    case 'mean':
      return c.meanResponseMs;
  }
}

export const thresholdPolicy = definePolicy({
  name: 'threshold',
  /** qosThresholdMs 0 = use the scenario's qosThresholdMs. */
  defaults: { qosThresholdMs: 0, signal: 'current', candidates: 4 },
  validate: (p) => [
    ...(!(THRESHOLD_SIGNALS as readonly string[]).includes(p.signal)
      ? [`signal: must be one of ${THRESHOLD_SIGNALS.map((x) => `'${x}'`).join(', ')}, got '${p.signal}'`]
      : []),
    ...(p.qosThresholdMs < 0 ? ['qosThresholdMs: must be >= 0 (0 = the scenario threshold)'] : []),
    ...(!Number.isInteger(p.candidates) || p.candidates < 1 ? ['candidates: must be an integer >= 1'] : []),
  ],
  decide(view, p) {
    const limitMs = p.qosThresholdMs > 0 ? p.qosThresholdMs : view.qosThresholdMs;
    const signal = p.signal as ThresholdSignal;
    const out: MigrationDecision[] = [];
    const ledger = new StepLedger(view);
    const cands: NodeId[] = [];
    const memo = OrderMemo.forStep(view);
    const containers = view.containers;
    for (let i = 0; i < containers.length; i++) {
      const c = containers[i];
      if (c.migrating || c.users.length === 0) continue;
      const observed = thresholdDelayMs(view, c, signal);
      if (Number.isNaN(observed) || !(observed > limitMs)) continue;
      const best = ledger.nearestWithRoom(c, candidatesOf(view, memo, i, c, p.candidates, cands));
      if (!best || best.node.id === c.nodeId) continue;
      const from = view.node(c.nodeId);
      ledger.recordMove(c, from, best.node, serviceMsOf(c, from));
      out.push({
        containerId: c.id,
        to: best.node.id,
        reason: `${signal} delay ${fmtMs(observed)} ms > QoS ${fmtMs(limitMs)} ms; ${best.node.id} has the lowest network latency (${fmtMs(best.rttMs)} ms)`,
      });
    }
    return out;
  },
});
