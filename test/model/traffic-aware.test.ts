import { describe, expect, it } from 'vitest';
import { trafficAwarePolicy } from '../../src/model/policies/index.ts';
import { fakeView, type FakeContainer, type FakeNode, type FakeViewInput } from './fake-view.ts';

const policy = trafficAwarePolicy.create();
const NOW = 100_000;

/** One container on a far node n0; n1 is near but busy, n2 slightly farther and idle. */
function scene(c: Partial<FakeContainer> = {}, extra: Partial<FakeViewInput> = {}) {
  return fakeView({
    nowMs: NOW,
    nodes: [{ id: 'n0' }, { id: 'n1', utilisation: 0.97 }, { id: 'n2' }],
    containers: [{ id: 'c1', nodeId: 'n0', requestRatePerS: 10, meanServiceMs: 20, ...c }],
    users: [{ id: 'u1', containerId: 'c1' }],
    rttMs: { u1: { n0: 60, n1: 10, n2: 15 } },
    ...extra,
  });
}

describe('traffic-aware', () => {
  it('avoids an overloaded near node and prefers a slightly farther idle node', () => {
    const d = policy.decide(scene());
    expect(d.map((x) => x.to)).toEqual(['n2']);
    // The numbers are in the reason: expected ~35 ms at n2 vs 80 ms at n0.
    expect(d[0].reason).toMatch(/^expected 35\.\d ms at n2 vs 80\.\d ms at n0; gain 4\d\.\d ms x 10\.0 req\/s x 60 s = \d+ req·ms > cost \d+ req·ms \(downtime \d+\.\d ms\)$/);
  });

  it('goes to the near node when it is idle too', () => {
    const v = scene({}, { nodes: [{ id: 'n0' }, { id: 'n1' }, { id: 'n2' }] });
    expect(policy.decide(v).map((x) => x.to)).toEqual(['n1']);
  });

  it('respects the dwell time since the last migration', () => {
    expect(policy.decide(scene({ lastMigrationEndMs: NOW - 5_000 }))).toEqual([]);
    expect(policy.decide(scene({ lastMigrationEndMs: NOW - 20_000 }))).toHaveLength(1);
    expect(trafficAwarePolicy.create({ minDwellMs: 30_000 }).decide(scene({ lastMigrationEndMs: NOW - 20_000 }))).toEqual([]);
  });

  it('stays when the gain is within the margin, without traffic, or without a service-time estimate', () => {
    const close = scene({}, { rttMs: { u1: { n0: 18, n1: 10, n2: 15 } } });
    expect(policy.decide(close)).toEqual([]);
    expect(trafficAwarePolicy.create({ marginMs: 1 }).decide(close)).toHaveLength(1);
    expect(policy.decide(scene({ requestRatePerS: 0 }))).toEqual([]);
    expect(policy.decide(scene({ meanServiceMs: NaN }))).toEqual([]);
  });

  it('refuses when the migration cost outweighs the gain', () => {
    // 4 GiB over a 10 Mbit/s path, cold: about an hour of downtime.
    const slow = scene(
      { memoryMiB: 4096 },
      { path: () => ({ bandwidthMbps: 10, latencyMs: 5 }), defaultMigrationMode: 'cold' },
    );
    expect(policy.decide(slow)).toEqual([]);
    // A short horizon also makes a normal move not worth it.
    expect(trafficAwarePolicy.create({ horizonS: 0.01 }).decide(scene())).toEqual([]);
    // A fixed penalty larger than the benefit too.
    expect(trafficAwarePolicy.create({ penaltyReqMs: 1e6 }).decide(scene())).toEqual([]);
  });

  it('moves away from its own node when that node is saturated, even to a farther node', () => {
    const v = fakeView({
      nowMs: NOW,
      nodes: [{ id: 'n0', cpuCores: 2, utilisation: 0.995 }, { id: 'n1' }],
      containers: [{ id: 'c1', nodeId: 'n0', requestRatePerS: 10, meanServiceMs: 20 }],
      users: [{ id: 'u1', containerId: 'c1' }],
      rttMs: { u1: { n0: 5, n1: 40 } },
    });
    expect(policy.decide(v).map((x) => x.to)).toEqual(['n1']);
  });

  describe('does not herd', () => {
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const base = (nodes: FakeNode[], extra: Partial<FakeViewInput> = {}) =>
      fakeView({
        nowMs: NOW,
        nodes,
        containers: ids.map((id) => ({ id, nodeId: 'n0', requestRatePerS: 20, meanServiceMs: 50 })),
        users: ids.map((id) => ({ id: `u-${id}`, containerId: id })),
        rttMs: Object.fromEntries(ids.map((id) => [`u-${id}`, { n0: 60, n1: 10 }])),
        ...extra,
      });

    it('10 containers onto a node with memory for 2', () => {
      const v = base([
        { id: 'n0', cpuCores: 32, utilisation: 10 / 32 },
        { id: 'n1', cpuCores: 32, memoryMiB: 300 },
      ]);
      const d = policy.decide(v);
      expect(d.map((x) => x.to)).toEqual(['n1', 'n1']);
    });

    it('10 containers of 1 Erlang each onto a 4-core node', () => {
      const v = base([
        { id: 'n0', cpuCores: 16, utilisation: 10 / 16 },
        { id: 'n1', cpuCores: 4 },
      ]);
      const d = policy.decide(v);
      // Each container adds 1 busy core: 3 fit with a worthwhile gain (expected 60, 64, 86 ms
      // at n1 vs ~110 ms at n0); a 4th would saturate n1.
      expect(d.map((x) => x.containerId)).toEqual(['c0', 'c1', 'c2']);
      expect(new Set(d.map((x) => x.to))).toEqual(new Set(['n1']));
    });

    it('counts load still travelling in a migration in flight', () => {
      const nodes = [
        { id: 'n0', cpuCores: 16, utilisation: 10 / 16 },
        { id: 'n1', cpuCores: 4 },
      ];
      const free = policy.decide(base(nodes)).length;
      const withFlight = policy.decide(
        base(nodes, { migrationsInFlight: [{ containerId: 'c9', from: 'n0', to: 'n1', mode: 'precopy', startedMs: NOW - 100 }] }),
      );
      expect(withFlight.length).toBe(free - 1);
      expect(withFlight.map((x) => x.containerId)).not.toContain('c9');
    });
  });
});
