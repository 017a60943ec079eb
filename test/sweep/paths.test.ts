import { describe, expect, it } from 'vitest';
import { applyOverride, parseOverridePath, type PathStep } from '../../src/sweep/paths.ts';

function steps(text: string): PathStep[] {
  const p = parseOverridePath(text);
  if (!p.ok) throw new Error(p.message);
  return p.steps;
}

const scenario = (): Record<string, unknown> => ({
  qosThresholdMs: 100,
  users: [
    { id: 'walker', mobility: { kind: 'manhattan', speedMps: [1, 2] } },
    { id: 'driver', mobility: { kind: 'manhattan', speedMps: [5, 15] } },
  ],
  containers: [{ perUser: true, memoryMiB: 128 }, { id: 'db', node: 'n1', users: ['walker'], memoryMiB: 512 }],
  policies: ['never', { name: 'threshold', params: { thresholdMs: 80 } }],
  topology: { nodes: [{ id: 'n1', cpuCores: 2 }] },
});

describe('override paths', () => {
  it('parses keys, [*], positions and ids', async () => {
    expect(steps('qosThresholdMs')).toEqual([{ key: 'qosThresholdMs', selectors: [] }]);
    expect(steps('containers[*].memoryMiB')).toEqual([{ key: 'containers', selectors: [{ all: true }] }, { key: 'memoryMiB', selectors: [] }]);
    expect(steps('users[walker].mobility.speedMps')).toEqual([
      { key: 'users', selectors: [{ match: 'walker' }] },
      { key: 'mobility', selectors: [] },
      { key: 'speedMps', selectors: [] },
    ]);
    expect(steps('topology.nodes[0].cpuCores')[1]).toEqual({ key: 'nodes', selectors: [{ index: 0 }] });
  });

  it('rejects malformed paths, saying where', async () => {
    for (const [text, why] of [
      ['', 'empty'],
      ['a..b', 'a field name expected at ".b"'],
      ['users[].x', 'empty [] selector'],
      ['users[walker', 'unexpected "["'],
      ['9lives', 'a field name expected'],
    ] as const) {
      const p = parseOverridePath(text);
      expect(p.ok, text).toBe(false);
      if (!p.ok) expect(p.message).toContain(why);
    }
  });

  it('sets every entry with [*], the entry with an id, an entry by position; returns what it set', async () => {
    const d = scenario();
    expect(applyOverride(d, steps('containers[*].memoryMiB'), 64)).toEqual({ ok: true, targets: [['containers', 0, 'memoryMiB'], ['containers', 1, 'memoryMiB']] });
    expect((d.containers as { memoryMiB: number }[]).map((c) => c.memoryMiB)).toEqual([64, 64]);
    expect(applyOverride(d, steps('users[driver].mobility.speedMps'), [3, 4])).toEqual({ ok: true, targets: [['users', 1, 'mobility', 'speedMps']] });
    expect((d.users as { mobility: { speedMps: number[] } }[]).map((u) => u.mobility.speedMps)).toEqual([[1, 2], [3, 4]]);
    expect(applyOverride(d, steps('topology.nodes[0].cpuCores'), 8).ok).toBe(true);
    expect((d.topology as { nodes: { cpuCores: number }[] }).nodes[0].cpuCores).toBe(8);
    // Policies are matched by name, written as a string or a mapping.
    expect(applyOverride(d, steps('policies[threshold].params.thresholdMs'), 120)).toEqual({ ok: true, targets: [['policies', 1, 'params', 'thresholdMs']] });
  });

  it('creates mappings the file leaves out, and copies the value into each place', async () => {
    const d = scenario();
    const value = { checkpointBaseMs: 10 };
    expect(applyOverride(d, steps('migration.cost'), value)).toEqual({ ok: true, targets: [['migration', 'cost']] });
    expect(d.migration).toEqual({ cost: { checkpointBaseMs: 10 } });
    expect((d.migration as { cost: unknown }).cost).not.toBe(value);
    expect(applyOverride(d, steps('warmupS'), 5)).toEqual({ ok: true, targets: [['warmupS']] });
  });

  it('says why a path does not resolve', async () => {
    const fail = (path: string, value: unknown = 1): string => {
      const r = applyOverride(scenario(), steps(path), value);
      if (r.ok) throw new Error(`${path} resolved`);
      return r.message;
    };
    expect(fail('users[walkr].mobility.speedMps')).toBe('users has no entry with id "walkr" (did you mean "walker"?); ids there: walker, driver');
    expect(fail('containers[5].memoryMiB')).toBe('containers has 2 entries, no [5]');
    expect(fail('users.mobility')).toContain('users is a list, not a mapping: select entries with [*], [<position>] or [<id>] before .mobility');
    expect(fail('qosThresholdMs.x')).toBe('qosThresholdMs is 100, not a mapping or list');
    expect(fail('links[*].latencyMs')).toBe('links is not in the scenario: there is no list to select from');
    expect(fail('topology[0].x')).toBe('topology is not a list, so it has no entries to select');
  });
});
