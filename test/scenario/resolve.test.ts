import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { checkScenarioText, parseScenarioText } from '../../src/scenario-io/parse.ts';
import {
  DEFAULT_LATENCY,
  DEFAULT_MIGRATION_COST,
  DEFAULT_REQUESTS,
  SCENARIO_DEFAULTS,
} from '../../src/model/scenario/defaults.ts';
import type { Scenario } from '../../src/model/types.ts';

const MINIMAL = `
name: minimal
durationS: 60
topology:
  nodes:
    - { id: edge1, x: 0, y: 0, cpuCores: 2, memoryMiB: 1024 }
users:
  - id: u
containers:
  - { id: c, node: edge1, users: [u], memoryMiB: 64, serviceTime: { kind: deterministic, valueMs: 10 } }
policy: never
`;

function gridScenario(extra: Record<string, unknown> = {}, placement: unknown = 'random', seed = 7): string {
  return stringify({
    name: 'g',
    seed,
    durationS: 60,
    topology: {
      grid: { rows: 3, cols: 3, spacingM: 100, node: { cpuCores: 2, memoryMiB: 1024 }, link: { latencyMs: 1, bandwidthMbps: 100 } },
    },
    users: [{ id: 'w', count: 40, mobility: { kind: 'random-waypoint', speedMps: [1, 2] } }],
    containers: [{ perUser: true, placement, memoryMiB: 64, serviceTime: { kind: 'exponential', meanMs: 5 } }],
    policies: ['never', { name: 'threshold', params: { limitMs: 80 } }],
    ...extra,
  });
}

describe('defaults', () => {
  it('fills every omitted field with its documented default', () => {
    const s = parseScenarioText(MINIMAL, 'minimal.yaml');
    expect(s.description).toBe('');
    expect(s.mode).toBe('sim');
    expect(s.seed).toBe(SCENARIO_DEFAULTS.seed);
    expect(s.warmupS).toBe(0);
    expect(s.controlIntervalS).toBe(1);
    expect(s.metricsWindowS).toBe(10);
    expect(s.reportIntervalS).toBe(10);
    expect(s.qosThresholdMs).toBe(100);
    expect(s.latency).toEqual(DEFAULT_LATENCY);
    expect(s.topology.nodes[0]).toMatchObject({ backgroundLoad: 0, speedFactor: 1, position: { xM: 0, yM: 0 } });
    expect(s.topology.accessPoints).toEqual([{ id: 'ap-edge1', position: { xM: 0, yM: 0 }, attachedTo: 'edge1' }]);
    expect(s.topology.switches).toEqual([]);
    expect(s.topology.links).toEqual([]);
    expect(s.users[0].mobility).toEqual({ kind: 'static' });
    expect(s.users[0].requests).toEqual(DEFAULT_REQUESTS);
    expect(s.containers[0]).toMatchObject({ imageMiB: 0, dirtyRateMiBps: 0 });
    expect(s.migration).toEqual({ mode: 'cold', cost: DEFAULT_MIGRATION_COST });
    expect(s.policies).toEqual([{ name: 'never', params: {} }]);
    expect(s.output).toEqual({ requestTrace: false, perUserSeries: true });
    expect(s.live).toBeUndefined();
  });

  it('merges a partial migration cost override over the defaults', () => {
    const s = parseScenarioText(`${MINIMAL}\nmigration: { mode: precopy, cost: { precopyMaxRounds: 3 } }\n`, 'm.yaml');
    expect(s.migration.mode).toBe('precopy');
    expect(s.migration.cost).toEqual({ ...DEFAULT_MIGRATION_COST, precopyMaxRounds: 3 });
  });

  it('expands a grid generator: n-r-c nodes at spacing/2, co-located APs, 4-neighbour links', () => {
    const s = parseScenarioText(gridScenario(), 'g.yaml');
    expect(s.topology.nodes.map((n) => n.id).slice(0, 4)).toEqual(['n-0-0', 'n-0-1', 'n-0-2', 'n-1-0']);
    expect(s.topology.nodes[1].position).toEqual({ xM: 150, yM: 50 });
    expect(s.topology.areaM).toEqual({ width: 300, height: 300 });
    expect(s.topology.links).toHaveLength(12);
    expect(s.topology.accessPoints[4]).toEqual({ id: 'ap-n-1-1', position: { xM: 150, yM: 150 }, attachedTo: 'n-1-1' });
    expect(s.users.map((u) => u.id).slice(0, 2)).toEqual(['w-0', 'w-1']);
    expect(s.containers[0]).toMatchObject({ id: 'c-w-0', users: ['w-0'] });
    expect(s.users[0].mobility).toMatchObject({ pauseS: [0, 0] });
    expect(s.policies[1]).toEqual({ name: 'threshold', params: { limitMs: 80 } });
  });

  it('overrides: seed and a policy from the list (keeping its params)', () => {
    const s = parseScenarioText(gridScenario(), 'g.yaml', { overrides: { seed: 99, policy: 'threshold' } });
    expect(s.seed).toBe(99);
    expect(s.policies).toEqual([{ name: 'threshold', params: { limitMs: 80 } }]);
    const out = checkScenarioText(gridScenario(), 'g.yaml', { overrides: { policy: 'treshold' } });
    expect(out.problems.map((p) => p.message).join('\n')).toContain('did you mean "threshold"?');
  });
});

describe('seeded placement and start positions', () => {
  const placements = (s: Scenario) => s.containers.map((c) => c.node);
  const starts = (s: Scenario) => s.users.map((u) => u.start);

  it('is the same for the same seed and differs for another seed', () => {
    const a = parseScenarioText(gridScenario({}, 'random', 7), 'g.yaml');
    const b = parseScenarioText(gridScenario({}, 'random', 7), 'g.yaml');
    const c = parseScenarioText(gridScenario({}, 'random', 8), 'g.yaml');
    expect(placements(a)).toEqual(placements(b));
    expect(starts(a)).toEqual(starts(b));
    expect(placements(a)).not.toEqual(placements(c));
    expect(starts(a)).not.toEqual(starts(c));
  });

  it('nearest placement respects memory and falls back to the next nearest node', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 64, max: 512 }), (seed, memoryMiB) => {
        const text = gridScenario({ containers: [{ perUser: true, memoryMiB, serviceTime: { kind: 'alpr' } }] }, 'nearest', seed);
        const out = checkScenarioText(text, 'g.yaml');
        const capacity = 9 * Math.floor(1024 / memoryMiB); // containers the 9 nodes can hold
        if (capacity < 40) {
          // Not enough room: one problem naming the containers left over.
          expect(out.scenario).toBeUndefined();
          expect(out.problems).toHaveLength(1);
          expect(out.problems[0].message).toContain(`but ${40 - capacity} do not: c-w-`);
          return;
        }
        if (!out.scenario) throw new Error(out.problems.map((p) => p.message).join('\n'));
        const used = new Map<string, number>();
        for (const c of out.scenario.containers) used.set(c.node, (used.get(c.node) ?? 0) + c.memoryMiB);
        for (const v of used.values()) expect(v).toBeLessThanOrEqual(1024);
        // The first container goes to the node nearest its user (memory is free then).
        const u = out.scenario.users[0];
        const d = (n: Scenario['topology']['nodes'][number]) => Math.hypot(n.position.xM - u.start.xM, n.position.yM - u.start.yM);
        const nearest = Math.min(...out.scenario.topology.nodes.map(d));
        const first = out.scenario.topology.nodes.find((n) => n.id === out.scenario?.containers[0].node);
        expect(first && d(first)).toBe(nearest);
      }),
      { numRuns: 25 },
    );
  });

  it('round-robin spreads containers over the nodes in order', () => {
    const s = parseScenarioText(gridScenario({}, 'round-robin'), 'g.yaml');
    expect(placements(s).slice(0, 10)).toEqual(['n-0-0', 'n-0-1', 'n-0-2', 'n-1-0', 'n-1-1', 'n-1-2', 'n-2-0', 'n-2-1', 'n-2-2', 'n-0-0']);
  });
});

describe('live section', () => {
  it('resolves paths relative to the scenario and names every container', () => {
    const text = `${MINIMAL}\nmode: live\nlive: { inventory: ../.testbed/inventory.yaml, containerNames: { c: alpr-1 } }\n`;
    const s = parseScenarioText(text, 'x.yaml', { resolvePath: (p) => `/base/scenarios/${p}` });
    expect(s.live).toEqual({ inventory: '/base/scenarios/../.testbed/inventory.yaml', timeScale: 1, onDowntime: 'retry', containerNames: { c: 'alpr-1' } });
  });

  it('rejects container names for containers the scenario does not have', () => {
    const out = checkScenarioText(`${MINIMAL}\nlive: { inventory: inv.yaml, containerNames: { cc: x } }\n`, 'x.yaml');
    expect(out.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`)).toEqual([
      'x.yaml:13: live.containerNames.cc: expected a container id, got "cc" (did you mean "c"?)',
    ]);
  });
});
