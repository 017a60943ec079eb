/**
 * ViewChanges as the simulator's view reports them, against a snapshot kept
 * by the test: at every control step, the containers listed (and flagged
 * CHANGED_STATE) are exactly those whose node, migrating flag, last migration
 * end or observed metrics changed since the previous step; the handovers are
 * exactly the containers one of whose users changed access point (geometric
 * latency); the node list matches the node flags. The lists are built from the
 * flags on first read, so this checks that too.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/cluster/state.ts';
import type { Policy } from '../../src/model/policy.ts';
import { CHANGED_NETWORK, CHANGED_STATE, type ClusterView, type MigrationDecision } from '../../src/model/view.ts';
import { createBuiltinPolicy } from '../../src/model/policies/index.ts';
import { loadScenario } from '../../src/scenario-io/load.ts';
import { simulate } from '../../src/sim/simulator.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('ViewChanges in the simulator', () => {
  it('lists exactly what changed since the previous step', async () => {
    const s = await loadScenario(path.join(ROOT, 'scenarios', 'city-grid.yaml'));
    s.durationS = 60;
    const inner = createBuiltinPolicy({ name: 'traffic-aware', params: {} });
    let prev: { node: Int32Array; migrating: Uint8Array; lastEnd: Float64Array; version: Uint32Array; ap: Int32Array } | undefined;
    let steps = 0;
    let listed = 0;
    let handovers = 0;
    const problems: string[] = [];
    const policy: Policy = {
      name: 'probe',
      params: {},
      decide(view: ClusterView): MigrationDecision[] {
        const ch = view.changes;
        expect(ch).toBeDefined();
        if (ch === undefined) return [];
        const v = view as ClusterView & { state: ClusterState; userAp: Int32Array };
        const st = v.state;
        const C = st.containerIds.length;
        const now = {
          node: st.containerNode.slice(),
          migrating: st.containerMigrating.slice(),
          lastEnd: st.lastMigrationEndMs.slice(),
          version: st.observed.cVersion.slice(),
          ap: v.userAp.slice(),
        };
        if (prev !== undefined && ch.sinceStep === ch.step - 1) {
          const want: number[] = [];
          const wantHandovers: number[] = [];
          for (let c = 0; c < C; c++) {
            if (now.node[c] !== prev.node[c] || now.migrating[c] !== prev.migrating[c] || !Object.is(now.lastEnd[c], prev.lastEnd[c]) || now.version[c] !== prev.version[c]) want.push(c);
            const users = st.scenario.containers[c].users.map((id) => st.userIndex.get(id) ?? -1);
            if (users.some((u) => now.ap[u] !== prev!.ap[u])) wantHandovers.push(c);
          }
          // The window still growing at the start of a run lists everything; compare once it is full.
          if (ch.containers.length < C && JSON.stringify(ch.containers) !== JSON.stringify(want)) problems.push(`step ${ch.step}: containers ${ch.containers.length} listed, ${want.length} changed`);
          if (JSON.stringify(ch.handovers) !== JSON.stringify(wantHandovers)) problems.push(`step ${ch.step}: handovers differ`);
          listed += ch.containers.length;
          handovers += ch.handovers.length;
        }
        for (let c = 0; c < C; c++) {
          const inList = ch.containers.includes(c);
          if (inList !== ((ch.containerFlags[c] & CHANGED_STATE) !== 0)) problems.push(`step ${ch.step}: container ${c} flag vs list`);
          if (ch.handovers.includes(c) !== ((ch.containerFlags[c] & CHANGED_NETWORK) !== 0)) problems.push(`step ${ch.step}: handover ${c} flag vs list`);
        }
        const flaggedNodes = [...ch.nodeFlags].flatMap((f, n) => (f === 1 ? [n] : []));
        if (JSON.stringify(ch.nodes) !== JSON.stringify(flaggedNodes)) problems.push(`step ${ch.step}: nodes flag vs list`);
        prev = now;
        steps++;
        return inner.decide(view);
      },
    };
    const r = simulate(s, policy, 1);
    expect(problems.slice(0, 5)).toEqual([]);
    expect(steps).toBeGreaterThan(20);
    expect(listed).toBeGreaterThan(0);
    expect(handovers).toBeGreaterThan(0);
    expect(r.summary.migrations.count).toBeGreaterThan(0);
  });
});
