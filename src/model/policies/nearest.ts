/**
 * Follow-me: move a container to the node with the lowest network RTT to its
 * users (mean over users) when that beats the current node by more than
 * marginMs. Ignores load entirely; only memory room is respected.
 *
 * Incremental: with the view's ViewChanges the candidate nodes of a container
 * are kept between steps and collected again only after a handover of one of
 * its users (OrderMemo in common.ts); the decisions are the same.
 */
import { definePolicy } from './define.ts';
import { OrderMemo, StepLedger, candidatesOf, fmtMs, meanRttMs, serviceMsOf } from './common.ts';
import type { MigrationDecision } from '../view.ts';
import type { NodeId } from '../types.ts';

export const nearestPolicy = definePolicy({
  name: 'nearest',
  defaults: { marginMs: 5, candidates: 4 },
  validate: (p) => [
    ...(p.marginMs < 0 ? ['marginMs: must be >= 0'] : []),
    ...(!Number.isInteger(p.candidates) || p.candidates < 1 ? ['candidates: must be an integer >= 1'] : []),
  ],
  decide(view, p) {
    const out: MigrationDecision[] = [];
    const ledger = new StepLedger(view);
    const cands: NodeId[] = [];
    const memo = OrderMemo.forStep(view);
    const containers = view.containers;
    for (let i = 0; i < containers.length; i++) {
      const c = containers[i];
      if (c.migrating || c.users.length === 0) continue;
      const best = ledger.nearestWithRoom(c, candidatesOf(view, memo, i, c, p.candidates, cands));
      if (!best || best.node.id === c.nodeId) continue;
      const current = meanRttMs(view, c.users, c.nodeId);
      const gain = current - best.rttMs;
      if (!(gain > p.marginMs)) continue;
      const from = view.node(c.nodeId);
      ledger.recordMove(c, from, best.node, serviceMsOf(c, from));
      out.push({
        containerId: c.id,
        to: best.node.id,
        reason: `network ${fmtMs(best.rttMs)} ms at ${best.node.id} vs ${fmtMs(current)} ms at ${c.nodeId}; gain ${fmtMs(gain)} ms > margin ${p.marginMs} ms`,
      });
    }
    return out;
  },
});
