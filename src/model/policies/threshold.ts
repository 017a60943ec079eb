/**
 * ShareOn's rule (decision.py): when a container's observed delay exceeds the
 * QoS threshold, move it to the node with the lowest network latency to its
 * user(s); stay if that is the current node. The observed delay is the mean
 * response over the metrics window (signal 'mean') or the last response
 * ('last'); a container without observations is left alone.
 * Difference from decision.py: a node without memory room is skipped in favour
 * of the next nearest, instead of issuing a move that would be rejected.
 */
import { definePolicy } from './define.ts';
import { StepLedger, collectCandidates, fmtMs, serviceMsOf } from './common.ts';
import type { MigrationDecision } from '../view.ts';
import type { NodeId } from '../types.ts';

export const thresholdPolicy = definePolicy({
  name: 'threshold',
  /** qosThresholdMs 0 = use the scenario's qosThresholdMs. */
  defaults: { qosThresholdMs: 0, signal: 'mean', candidates: 4 },
  validate: (p) => [
    ...(p.signal !== 'mean' && p.signal !== 'last' ? [`signal: must be 'mean' or 'last', got '${p.signal}'`] : []),
    ...(p.qosThresholdMs < 0 ? ['qosThresholdMs: must be >= 0 (0 = the scenario threshold)'] : []),
    ...(!Number.isInteger(p.candidates) || p.candidates < 1 ? ['candidates: must be an integer >= 1'] : []),
  ],
  decide(view, p) {
    const limitMs = p.qosThresholdMs > 0 ? p.qosThresholdMs : view.qosThresholdMs;
    const out: MigrationDecision[] = [];
    const ledger = new StepLedger(view);
    const cands: NodeId[] = [];
    for (const c of view.containers) {
      if (c.migrating || c.users.length === 0) continue;
      const observed = p.signal === 'last' ? c.lastResponseMs : c.meanResponseMs;
      if (Number.isNaN(observed) || !(observed > limitMs)) continue;
      const best = ledger.nearestWithRoom(c, collectCandidates(view, c.users, p.candidates, cands));
      if (!best || best.node.id === c.nodeId) continue;
      const from = view.node(c.nodeId);
      ledger.recordMove(c, from, best.node, serviceMsOf(c, from));
      out.push({
        containerId: c.id,
        to: best.node.id,
        reason: `${p.signal} response ${fmtMs(observed)} ms > QoS ${fmtMs(limitMs)} ms; ${best.node.id} has the lowest network latency (${fmtMs(best.rttMs)} ms)`,
      });
    }
    return out;
  },
});
