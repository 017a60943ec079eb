import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario-io/load.ts';
import { ALPR_SERVICE_TIME } from '../../src/model/alpr-samples.ts';

function memoryByNode(s: Awaited<ReturnType<typeof loadScenario>>): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of s.containers) m.set(c.node, (m.get(c.node) ?? 0) + c.memoryMiB);
  return m;
}

describe('ready scenarios', () => {
  it('shareon-geni: five edges in a line, one ALPR user, linear latency', async () => {
    const s = await loadScenario('scenarios/shareon-geni.yaml');
    expect(s.topology.nodes.map((n) => n.id)).toEqual(['edge1', 'edge2', 'edge3', 'edge4', 'edge5']);
    expect(s.latency).toEqual({ kind: 'linear', edgeConstantsMs: { edge1: 5, edge2: 25, edge3: 45, edge4: 50, edge5: 90 }, msPerM: 1 });
    expect(s.users).toHaveLength(1);
    expect(s.users[0].mobility).toMatchObject({ kind: 'straight-path', speedMps: 0.5 });
    expect(s.users[0].start).toEqual({ xM: 0, yM: 0 });
    expect(s.containers).toHaveLength(1);
    expect(s.containers[0]).toMatchObject({ id: 'plate', node: 'edge1', users: [s.users[0].id] });
    expect(s.containers[0].serviceTime).toEqual(ALPR_SERVICE_TIME);
    expect(s.policies.map((p) => p.name)).toEqual(['never', 'threshold']);
    expect(s.output.perUserSeries).toBe(true);
    expect(s.file.endsWith('scenarios/shareon-geni.yaml')).toBe(true);
  });

  it('city-grid: 16 grid nodes, 1000 users, one container per user, all four policies', async () => {
    const s = await loadScenario('scenarios/city-grid.yaml');
    expect(s.topology.nodes).toHaveLength(16);
    expect(s.topology.accessPoints).toHaveLength(16);
    expect(s.topology.links).toHaveLength(2 * 4 * 3); // 4-neighbour links of a 4x4 grid
    expect(s.topology.areaM).toEqual({ width: 4000, height: 4000 });
    expect(s.users).toHaveLength(1000);
    expect(s.containers).toHaveLength(1000);
    expect(new Set(s.containers.map((c) => c.users[0])).size).toBe(1000);
    expect(s.policies.map((p) => p.name)).toEqual(['never', 'nearest', 'threshold', 'traffic-aware']);
    expect(s.output.perUserSeries).toBe(false); // auto with > 100 users
    for (const u of s.users) {
      expect(u.start.xM).toBeGreaterThanOrEqual(0);
      expect(u.start.xM).toBeLessThanOrEqual(4000);
    }
  });

  it('overload: every container starts on the single-core node', async () => {
    const s = await loadScenario('scenarios/overload.yaml');
    expect(s.containers.length).toBeGreaterThan(1);
    expect(new Set(s.containers.map((c) => c.node))).toEqual(new Set(['edge1']));
    expect(s.topology.nodes.find((n) => n.id === 'edge1')?.cpuCores).toBe(1);
    expect(s.policies.map((p) => p.name)).toEqual(['never', 'threshold', 'traffic-aware']);
  });

  it('metro: 10,000 users on 100 nodes for an hour, memory within capacity', async () => {
    const s = await loadScenario('scenarios/metro.yaml');
    expect(s.topology.nodes).toHaveLength(100);
    expect(s.users).toHaveLength(10_000);
    expect(s.containers).toHaveLength(10_000);
    expect(s.durationS).toBe(3600);
    expect(s.policies.map((p) => p.name)).toEqual(['traffic-aware']);
    const capacity = new Map(s.topology.nodes.map((n) => [n.id, n.memoryMiB]));
    for (const [node, used] of memoryByNode(s)) expect(used).toBeLessThanOrEqual(capacity.get(node) ?? 0);
  });
});
