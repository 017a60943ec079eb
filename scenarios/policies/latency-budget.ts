/**
 * An example custom policy: keep each container's observed mean response
 * under a latency budget by moving it to the nearest node that is not busy.
 * Name it in a scenario with `{ name: budget, module: ./policies/latency-budget.ts }`.
 * (Outside this repository: `import { definePolicy } from 'conmig'`.)
 */
import { definePolicy, type MigrationDecision } from '../../src/index.ts';

export default definePolicy({
  name: 'latency-budget',
  defaults: { budgetMs: 90, maxUtilisation: 0.7, minDwellMs: 15_000 },
  validate: (p) => [
    ...(p.budgetMs > 0 ? [] : ['budgetMs: must be > 0']),
    ...(p.maxUtilisation > 0 && p.maxUtilisation <= 1 ? [] : ['maxUtilisation: must be in (0, 1]']),
  ],
  decide(view, p) {
    const out: MigrationDecision[] = [];
    for (const c of view.containers) {
      if (c.migrating || !(c.meanResponseMs > p.budgetMs)) continue;
      if (view.nowMs - c.lastMigrationEndMs < p.minDwellMs) continue;
      const user = c.users[0];
      if (user === undefined) continue;
      // The nearest node with spare CPU and memory; the current node means "stay".
      for (const id of view.nodesByRtt(user)) {
        if (id === c.nodeId) break;
        const n = view.node(id);
        if (n.utilisation > p.maxUtilisation || n.memoryMiB - n.memoryUsedMiB < c.memoryMiB) continue;
        out.push({ containerId: c.id, to: id, reason: `mean ${c.meanResponseMs.toFixed(1)} ms > budget ${p.budgetMs} ms; ${id} is nearest with spare capacity` });
        break;
      }
    }
    return out;
  },
});
