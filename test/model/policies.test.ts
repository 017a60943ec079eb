import { describe, expect, it } from 'vitest';
import {
  builtinPolicies,
  createBuiltinPolicy,
  definePolicy,
  nearestPolicy,
  neverPolicy,
  thresholdPolicy,
} from '../../src/model/policies/index.ts';
import { ConmigError } from '../../src/model/errors.ts';
import { fakeView, type FakeContainer, type FakeViewInput } from './fake-view.ts';

function catchError(f: () => unknown): ConmigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConmigError) return e;
    throw e;
  }
  throw new Error('expected a ConmigError');
}

describe('definePolicy', () => {
  const p = definePolicy({
    name: 'demo',
    defaults: { limitMs: 80, mode: 'a', on: true },
    validate: (x) => (x.limitMs > 1000 ? ['limitMs: must be <= 1000'] : []),
    decide: () => [],
  });
  it('merges parameters over the defaults and freezes them', () => {
    const pol = p.create({ limitMs: 90 });
    expect(pol.params).toEqual({ limitMs: 90, mode: 'a', on: true });
    expect(Object.isFrozen(pol.params)).toBe(true);
    expect(p.create().params).toEqual({ limitMs: 80, mode: 'a', on: true });
  });
  it('reports unknown names and wrong types together, with paths', () => {
    const e = catchError(() => p.create({ limitMs: 'fast', colour: 'red', on: 1 }));
    expect(e.code).toBe('POLICY_INVALID');
    expect(e.problems.map((x) => x.path).sort()).toEqual([
      'policies.demo.params.colour',
      'policies.demo.params.limitMs',
      'policies.demo.params.on',
    ]);
    expect(e.problems.find((x) => x.path.endsWith('colour'))?.message).toMatch(/valid: limitMs, mode, on/);
    expect(e.problems.find((x) => x.path.endsWith('limitMs'))?.message).toMatch(/expected number/);
  });
  it('rejects NaN and runs validate with field paths', () => {
    expect(catchError(() => p.create({ limitMs: NaN })).problems[0].message).toMatch(/NaN/);
    const e = catchError(() => p.create({ limitMs: 5000 }));
    expect(e.problems).toEqual([{ path: 'policies.demo.params.limitMs', message: 'must be <= 1000' }]);
  });
});

describe('createBuiltinPolicy', () => {
  it('builds each built-in by name', () => {
    for (const name of Object.keys(builtinPolicies)) {
      expect(createBuiltinPolicy({ name, params: {} }).name).toBe(name);
    }
  });
  it('throws POLICY_NOT_FOUND listing the valid names', () => {
    const e = catchError(() => createBuiltinPolicy({ name: 'magic', params: {} }));
    expect(e.code).toBe('POLICY_NOT_FOUND');
    expect(e.message).toMatch(/never, nearest, threshold, traffic-aware/);
  });
  it('passes params through to validation', () => {
    expect(catchError(() => createBuiltinPolicy({ name: 'threshold', params: { signal: 'max' } })).code).toBe('POLICY_INVALID');
  });
});

describe('never', () => {
  it('never moves anything', () => {
    const v = fakeView({
      nodes: [{ id: 'n1' }, { id: 'n2' }],
      containers: [{ id: 'c1', nodeId: 'n1', meanResponseMs: 500 }],
      users: [{ id: 'u1', containerId: 'c1' }],
      rttMs: { u1: { n1: 100, n2: 1 } },
    });
    expect(neverPolicy.create().decide(v)).toEqual([]);
  });
});

describe('threshold (ShareOn)', () => {
  const make = (c: Partial<FakeContainer>, rtt: Record<string, number>, extra: Partial<FakeViewInput> = {}) =>
    fakeView({
      nodes: [{ id: 'n1' }, { id: 'n2' }, { id: 'n3' }],
      containers: [{ id: 'c1', nodeId: 'n1', ...c }],
      users: [{ id: 'u1', containerId: 'c1' }],
      rttMs: { u1: rtt },
      qosThresholdMs: 100,
      ...extra,
    });
  const pol = thresholdPolicy.create();
  const far = { n1: 40, n2: 10, n3: 20 };
  /** The latest request: 30 ms on its network path, 65 ms on the node. */
  const latest = { lastResponseMs: 95, lastNetworkMs: 30 };

  it("by default ('current', decision.py's delay) adds the latest time on the node to the network RTT now", () => {
    // 65 ms on the node + 40 ms to n1 from where the user is now = 105 ms > 100: move to n2.
    const d = pol.decide(make(latest, far));
    expect(pol.params.signal).toBe('current');
    expect(d).toHaveLength(1);
    expect(d[0].to).toBe('n2');
    expect(d[0].reason).toMatch(/current delay 105\.0 ms > QoS 100\.0 ms; n2 has the lowest network latency \(10\.0 ms\)/);
    // 65 + 34 = 99 ms: stay (the latest response itself, 95 ms, is not what counts).
    expect(pol.decide(make(latest, { ...far, n1: 34 }))).toEqual([]);
    // It never averages: a high window mean does not move it.
    expect(pol.decide(make({ ...latest, meanResponseMs: 500 }, { ...far, n1: 34 }))).toEqual([]);
  });
  it('never counts the time requests were held during the migration of the container', () => {
    const held = { ...latest, lastMigrationWaitMs: 1600, meanMigrationWaitMs: 800, meanResponseMs: 80 };
    const near = { ...far, n1: 30 };
    for (const signal of ['current', 'last', 'mean']) expect(thresholdPolicy.create({ signal }).decide(make(held, near))).toEqual([]);
  });
  it('does not move when under the threshold, without observations, or while migrating', () => {
    expect(pol.decide(make({}, far))).toEqual([]);
    expect(pol.decide(make({ lastResponseMs: 150, lastNetworkMs: NaN }, far))).toEqual([]);
    expect(pol.decide(make({ ...latest, migrating: true }, far))).toEqual([]);
  });
  it('does not move when the best node is the current one', () => {
    expect(pol.decide(make({ lastResponseMs: 300, lastNetworkMs: 5 }, { n1: 5, n2: 10, n3: 20 }))).toEqual([]);
  });
  it("uses the window mean with signal 'mean', the latest response with 'last', and its own threshold when set", () => {
    const c = { meanResponseMs: 150, lastResponseMs: 80, lastNetworkMs: 40 };
    const mean = thresholdPolicy.create({ signal: 'mean' });
    expect(mean.decide(make(c, far)).map((d) => d.reason)).toEqual([expect.stringMatching(/^mean delay 150\.0 ms/)]);
    expect(mean.decide(make({ ...c, meanResponseMs: 80 }, far))).toEqual([]);
    expect(thresholdPolicy.create({ signal: 'last' }).decide(make(c, far))).toEqual([]);
    expect(thresholdPolicy.create({ signal: 'last' }).decide(make({ ...c, lastResponseMs: 150 }, far))).toHaveLength(1);
    expect(thresholdPolicy.create({ signal: 'mean', qosThresholdMs: 200 }).decide(make(c, far))).toEqual([]);
  });
  it('rejects an unknown signal, naming the valid ones', () => {
    const e = catchError(() => thresholdPolicy.create({ signal: 'max' }));
    expect(e.code).toBe('POLICY_INVALID');
    expect(e.message).toMatch(/signal: must be one of 'current', 'last', 'mean', got 'max'/);
  });
  it('skips a nearest node without memory room for the next nearest', () => {
    const v = make({ ...latest, memoryMiB: 512 }, far, {
      nodes: [{ id: 'n1' }, { id: 'n2', memoryMiB: 256 }, { id: 'n3' }],
    });
    expect(pol.decide(v).map((d) => d.to)).toEqual(['n3']);
  });
});

describe('nearest (follow-me)', () => {
  const make = (rttN2: number) =>
    fakeView({
      nodes: [{ id: 'n1' }, { id: 'n2' }],
      containers: [{ id: 'c1', nodeId: 'n1' }],
      users: [{ id: 'u1', containerId: 'c1' }],
      rttMs: { u1: { n1: 20, n2: rttN2 } },
    });
  it('respects the margin', () => {
    expect(nearestPolicy.create().decide(make(17))).toEqual([]);
    expect(nearestPolicy.create().decide(make(10)).map((d) => d.to)).toEqual(['n2']);
    expect(nearestPolicy.create({ marginMs: 1 }).decide(make(17))).toHaveLength(1);
  });
  it('uses the mean RTT over all users of a shared container', () => {
    const v = fakeView({
      nodes: [{ id: 'n1' }, { id: 'n2' }, { id: 'n3' }],
      containers: [{ id: 'c1', nodeId: 'n1' }],
      users: [
        { id: 'u1', containerId: 'c1' },
        { id: 'u2', containerId: 'c1' },
      ],
      // n2 is best for u1 alone, but n3 is best on average (15 vs 25 vs 30).
      rttMs: { u1: { n1: 30, n2: 5, n3: 10 }, u2: { n1: 30, n2: 45, n3: 20 } },
    });
    expect(nearestPolicy.create().decide(v).map((d) => d.to)).toEqual(['n3']);
  });
  it('does not send more containers than fit in memory', () => {
    const v = fakeView({
      nodes: [{ id: 'n1' }, { id: 'n2', memoryMiB: 300 }],
      containers: ['a', 'b', 'c'].map((id) => ({ id, nodeId: 'n1' })),
      users: ['a', 'b', 'c'].map((id) => ({ id: `u${id}`, containerId: id })),
      rttMs: { ua: { n1: 50, n2: 5 }, ub: { n1: 50, n2: 5 }, uc: { n1: 50, n2: 5 } },
    });
    expect(nearestPolicy.create().decide(v)).toHaveLength(2);
  });
});
