import { describe, expect, it } from 'vitest';
import { BackhaulGraph, LatencyModel, payloadTransmissionMs } from '../../src/model/latency.ts';
import type { Topology } from '../../src/model/types.ts';
import { ConmigError } from '../../src/model/errors.ts';

function node(id: string, xM: number) {
  return { id, position: { xM, yM: 0 }, cpuCores: 4, memoryMiB: 4096, backgroundLoad: 0, speedFactor: 1 };
}

// n1 - s1 - n2 (2 ms + 3 ms, 1000 / 100 Mbps) and a slow direct n1 - n2 (10 ms); n3 hangs off n2.
const topo: Topology = {
  areaM: { width: 10_000, height: 1000 },
  nodes: [node('n1', 0), node('n2', 5000), node('n3', 9000)],
  switches: ['s1'],
  accessPoints: [
    { id: 'a1', position: { xM: 0, yM: 0 }, attachedTo: 'n1' },
    { id: 'a2', position: { xM: 5000, yM: 0 }, attachedTo: 's1' },
  ],
  links: [
    { a: 'n1', b: 's1', latencyMs: 2, bandwidthMbps: 1000 },
    { a: 's1', b: 'n2', latencyMs: 3, bandwidthMbps: 100 },
    { a: 'n1', b: 'n2', latencyMs: 10, bandwidthMbps: 10_000 },
    { a: 'n2', b: 'n3', latencyMs: 1, bandwidthMbps: 500 },
  ],
};

describe('BackhaulGraph', () => {
  const g = new BackhaulGraph(topo);
  it('finds minimum-latency paths and their bottleneck', () => {
    expect(g.latencyMs('n1', 'n2')).toBe(5);
    expect(g.bottleneckMbps('n1', 'n2')).toBe(100);
    expect(g.latencyMs('n1', 'n3')).toBe(6);
    expect(g.bottleneckMbps('n3', 'n1')).toBe(100);
    expect(g.latencyMs('n2', 'n2')).toBe(0);
    expect(g.bottleneckMbps('n2', 'n2')).toBe(Infinity);
  });
  it('returns the link indices of a path, in order', () => {
    expect(g.pathLinks('n1', 'n3')).toEqual([0, 1, 3]);
    expect(g.pathLinks('n3', 'n1')).toEqual([3, 1, 0]);
    expect(g.pathLinks('n1', 'n1')).toEqual([]);
  });
  it('throws SCENARIO_INVALID naming the vertex when disconnected', () => {
    const bad: Topology = { ...topo, switches: ['s1', 'lonely'] };
    expect(() => new BackhaulGraph(bad)).toThrow(/lonely/);
    try {
      new BackhaulGraph(bad);
    } catch (e) {
      expect((e as ConmigError).code).toBe('SCENARIO_INVALID');
    }
  });
  it('rejects a link to an unknown vertex', () => {
    const bad: Topology = { ...topo, links: [...topo.links, { a: 'n1', b: 'ghost', latencyMs: 1, bandwidthMbps: 1 }] };
    expect(() => new BackhaulGraph(bad)).toThrow(/ghost/);
  });
});

describe('LatencyModel (geometric)', () => {
  const m = new LatencyModel({ kind: 'geometric', accessBaseMs: 1, accessMsPerKm: 0.5 }, topo);
  const a1 = topo.accessPoints[0];
  const a2 = topo.accessPoints[1];
  it('computes access latency from distance', () => {
    expect(m.accessMs({ xM: 2000, yM: 0 }, a1)).toBeCloseTo(2, 12);
  });
  it('RTT = 2(access + backhaul) + transmission; access-only hop has no transmission', () => {
    const user = { xM: 2000, yM: 0 };
    expect(m.networkRttMs(user, a1, 'n1', 10, 90)).toBeCloseTo(4, 12);
    // to n2: 2 * (2 + 5) + 100 KiB * 8.192 / 100 Mbps
    expect(m.networkRttMs(user, a1, 'n2', 10, 90)).toBeCloseTo(14 + 8.192, 9);
    expect(payloadTransmissionMs(100, 100)).toBeCloseTo(8.192, 12);
  });
  it('orders nodes by RTT per AP, ties by id', () => {
    expect(m.nodesByRtt(0).map((k) => m.nodeIds[k])).toEqual(['n1', 'n2', 'n3']);
    // a2 sits on s1: n1 is 2 ms away, n2 3 ms, n3 4 ms.
    expect(m.nodesByRtt(1).map((k) => m.nodeIds[k])).toEqual(['n1', 'n2', 'n3']);
    // With a big payload the 100 Mbps link to n2 makes n2/n3 costlier still, order unchanged.
    expect(m.nodesByRtt(1, 1000).map((k) => m.nodeIds[k])).toEqual(['n1', 'n2', 'n3']);
    expect(m.networkRttMs({ xM: 5000, yM: 0 }, a2, 'n2', 0, 0)).toBeCloseTo(2 + 6, 12);
    expect(m.nodeIdsByRtt(1)).toEqual(['n1', 'n2', 'n3']);
    expect(m.nodeIdsByRtt(1)).toBe(m.nodeIdsByRtt(1)); // cached, no allocation per call
  });
});

describe('LatencyModel (linear, ShareOn)', () => {
  const m = new LatencyModel({ kind: 'linear', edgeConstantsMs: { n1: 10, n2: 40, n3: 80 }, msPerM: 0.01 }, topo);
  it('RTT = |C_n - x * msPerM| with no payload term', () => {
    const a1 = topo.accessPoints[0];
    expect(m.networkRttMs({ xM: 3000, yM: 0 }, a1, 'n1', 100, 100)).toBeCloseTo(20, 12);
    expect(m.networkRttMs({ xM: 3000, yM: 0 }, a1, 'n2', 100, 100)).toBeCloseTo(10, 12);
    expect(m.nodeOrderAt({ xM: 3000, yM: 0 }, 0).map((k) => m.nodeIds[k])).toEqual(['n2', 'n1', 'n3']);
  });
  it('breaks RTT ties by node id', () => {
    const tied = new LatencyModel({ kind: 'linear', edgeConstantsMs: { n3: 10, n1: 10, n2: 40 }, msPerM: 0.01 }, topo);
    expect(tied.nodeOrderAt({ xM: 0, yM: 0 }, 0).map((k) => tied.nodeIds[k])).toEqual(['n1', 'n3', 'n2']);
  });
  it('requires a constant for every node', () => {
    expect(() => new LatencyModel({ kind: 'linear', edgeConstantsMs: { n1: 1 }, msPerM: 1 }, topo)).toThrow(/n2/);
  });
});
