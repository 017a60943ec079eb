import { describe, expect, it } from 'vitest';
import { validateDecisions } from '../../src/model/decisions.ts';
import { fakeView } from './fake-view.ts';

const view = fakeView({
  nodes: [{ id: 'n1' }, { id: 'n2', memoryMiB: 300 }, { id: 'n3' }],
  containers: [
    { id: 'c1', nodeId: 'n1', memoryMiB: 128 },
    { id: 'c2', nodeId: 'n1', memoryMiB: 128 },
    { id: 'c3', nodeId: 'n1', memoryMiB: 128 },
    { id: 'c4', nodeId: 'n3', memoryMiB: 64 },
  ],
  migrationsInFlight: [{ containerId: 'c4', from: 'n3', to: 'n1', mode: 'cold', startedMs: 0 }],
  defaultMigrationMode: 'precopy',
});

describe('validateDecisions', () => {
  it('accepts a valid move with the default mode and keeps the reason', () => {
    const r = validateDecisions(view, [{ containerId: 'c1', to: 'n3', reason: 'why' }]);
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toEqual([{ containerId: 'c1', from: 'n1', to: 'n3', mode: 'precopy', reason: 'why' }]);
  });
  it('rejects unknown containers and nodes', () => {
    const r = validateDecisions(view, [
      { containerId: 'zz', to: 'n3', reason: '' },
      { containerId: 'c1', to: 'nx', reason: '' },
    ]);
    expect(r.accepted).toEqual([]);
    expect(r.rejected.map((x) => x.reason)).toEqual(['unknown container "zz"', 'unknown node "nx"']);
  });
  it('rejects a container already migrating, a no-op move and a second decision', () => {
    const r = validateDecisions(view, [
      { containerId: 'c4', to: 'n2', reason: '' },
      { containerId: 'c1', to: 'n1', reason: '' },
      { containerId: 'c2', to: 'n3', mode: 'cold', reason: '' },
      { containerId: 'c2', to: 'n2', reason: '' },
    ]);
    expect(r.accepted.map((a) => [a.containerId, a.to, a.mode])).toEqual([['c2', 'n3', 'cold']]);
    expect(r.rejected.map((x) => x.reason)).toEqual([
      'container "c4" is already migrating',
      'container "c1" is already on "n1"',
      'container "c2" already has a decision in this step',
    ]);
  });
  it('counts memory reserved by earlier accepted decisions in the same call', () => {
    // n2 has 300 MiB and nothing on it: room for two 128 MiB containers, not three.
    const r = validateDecisions(view, [
      { containerId: 'c1', to: 'n2', reason: '' },
      { containerId: 'c2', to: 'n2', reason: '' },
      { containerId: 'c3', to: 'n2', reason: '' },
    ]);
    expect(r.accepted.map((a) => a.containerId)).toEqual(['c1', 'c2']);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0].reason).toMatch(/"n2" has 44 MiB free, container "c3" needs 128 MiB/);
  });
  it('sees memory already used on the destination (incoming migrations included)', () => {
    const tight = fakeView({
      nodes: [{ id: 'a', memoryMiB: 200 }, { id: 'b', memoryMiB: 1000 }],
      containers: [
        { id: 'x', nodeId: 'b', memoryMiB: 100 },
        { id: 'y', nodeId: 'b', memoryMiB: 150 },
      ],
      migrationsInFlight: [{ containerId: 'x', from: 'b', to: 'a', mode: 'cold', startedMs: 0 }],
    });
    expect(tight.node('a').memoryUsedMiB).toBe(100);
    const r = validateDecisions(tight, [{ containerId: 'y', to: 'a', reason: '' }]);
    expect(r.accepted).toEqual([]);
  });
});
