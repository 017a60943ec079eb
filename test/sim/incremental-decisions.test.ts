/**
 * Incremental decisions against full evaluation: every built-in policy, in a
 * simulated run, decides at every control step twice, once on the view with
 * its ViewChanges (the incremental path: remembered node orders, per-node wait
 * factors) and once, as a second instance, on the same view with the changes
 * hidden (everything evaluated, as for a backend without ViewChanges). The
 * two lists of decisions must be identical, reasons included, at every step;
 * the run carries on with the incremental one (so the goldens cover it too).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createBuiltinPolicy } from '../../src/model/policies/index.ts';
import type { Policy } from '../../src/model/policy.ts';
import type { PolicyRef, Scenario } from '../../src/model/types.ts';
import type { ClusterView, MigrationDecision } from '../../src/model/view.ts';
import { readFileSync } from 'node:fs';
import { loadScenario, parseScenarioText } from '../../src/scenario-io/load.ts';
import { simulate } from '../../src/sim/simulator.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Tally {
  steps: number;
  decisions: number;
  /** nodesByRtt calls: incremental, full. */
  ordersInc: number;
  ordersFull: number;
  mismatches: string[];
}

/** The view as a backend without ViewChanges would offer it (and counting its node-order lookups). */
function counting(view: ClusterView, hideChanges: boolean, count: () => void): ClusterView {
  return new Proxy(view, {
    get(target, key) {
      if (key === 'changes' && hideChanges) return undefined;
      if (key === 'nodesByRtt') return (u: string) => (count(), target.nodesByRtt(u));
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function comparing(ref: PolicyRef, t: Tally): Policy {
  const inc = createBuiltinPolicy(ref);
  const full = createBuiltinPolicy(ref);
  let incView: ClusterView | undefined;
  let fullView: ClusterView | undefined;
  return {
    name: inc.name,
    params: inc.params,
    decide(view) {
      // One wrapper per view for the whole run: the incremental memo is per view object.
      incView ??= counting(view, false, () => t.ordersInc++);
      fullView ??= counting(view, true, () => t.ordersFull++);
      const a: MigrationDecision[] = inc.decide(incView);
      const b: MigrationDecision[] = full.decide(fullView);
      t.steps++;
      t.decisions += a.length;
      if (JSON.stringify(a) !== JSON.stringify(b) && t.mismatches.length < 3) {
        t.mismatches.push(`t=${view.nowMs} ms: incremental ${JSON.stringify(a)} vs full ${JSON.stringify(b)}`);
      }
      return a;
    },
  };
}

/** metro cut to 1,000 users for 120 s at its load per node (service time x 10), as the bench scales it. */
function smallMetro(): Scenario {
  const file = path.join(ROOT, 'scenarios', 'metro.yaml');
  const text = readFileSync(file, 'utf8')
    .replace(/count: \d+/, 'count: 1000')
    .replace(/meanMs: 20 }/, 'meanMs: 200 }')
    .replace(/durationS: \d+/, 'durationS: 120');
  return parseScenarioText(text, 'metro.yaml', { file });
}

async function scenario(name: string, adjust: (s: Scenario) => void): Promise<Scenario> {
  if (name === 'metro-1k') return smallMetro();
  const s = await loadScenario(path.join(ROOT, 'scenarios', `${name}.yaml`));
  adjust(s);
  return s;
}

const CASES: Array<{ scenario: string; policies: string[]; adjust: (s: Scenario) => void; minDecisions: number }> = [
  { scenario: 'city-grid', policies: ['nearest', 'threshold', 'traffic-aware'], adjust: (s) => (s.durationS = 120), minDecisions: 10 },
  { scenario: 'overload', policies: ['threshold', 'traffic-aware'], adjust: () => {}, minDecisions: 1 },
  { scenario: 'metro-1k', policies: ['nearest', 'threshold', 'traffic-aware'], adjust: () => {}, minDecisions: 10 },
  { scenario: 'shareon-geni', policies: ['threshold'], adjust: () => {}, minDecisions: 1 },
];

describe.each(CASES)('incremental decisions equal full evaluation: $scenario', (c) => {
  it.each(c.policies)('%s decides the same at every step', async (policy) => {
    const s = await scenario(c.scenario, c.adjust);
    const t: Tally = { steps: 0, decisions: 0, ordersInc: 0, ordersFull: 0, mismatches: [] };
    simulate(s, comparing({ name: policy, params: s.policies.find((p) => p.name === policy)?.params ?? {} }, t), 1);
    expect(t.mismatches).toEqual([]);
    expect(t.steps).toBeGreaterThan(10);
    expect(t.decisions).toBeGreaterThanOrEqual(c.minDecisions);
    // The incremental path did skip work where node orders follow access points (geometric latency).
    if (s.latency.kind === 'geometric') expect(t.ordersInc).toBeLessThan(t.ordersFull);
  });
});
