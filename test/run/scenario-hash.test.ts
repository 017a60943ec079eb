/**
 * The scenario hash is the scenario as written: what a seed draws (random
 * starts, placements that follow them) counts as the rule that drew it, so
 * every seed of one file has one hash (what `--seeds` aggregates and `compare`
 * checks), and anything written still changes it.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { scenarioHash } from '../../src/cluster/scenario-hash.ts';
import { parseScenarioText } from '../../src/scenario-io/parse.ts';

const BASE = `name: h
durationS: 60
topology:
  grid: { rows: 2, cols: 2, spacingM: 1000, node: { cpuCores: 2, memoryMiB: 4096 }, link: { latencyMs: 5, bandwidthMbps: 1000 } }
users:
  - { id: w, count: 6, start: random, mobility: { kind: manhattan, blockM: 250, speedMps: [1, 2] } }
containers:
  - { perUser: true, placement: nearest, memoryMiB: 64, serviceTime: { kind: exponential, meanMs: 20 } }
policies: [never]
`;

const load = (text: string, seed?: number) => parseScenarioText(text, 'h.yaml', { overrides: seed === undefined ? undefined : { seed } });

describe('scenarioHash', () => {
  it('one hash for every seed of a scenario with random starts and nearest placement, though the draws differ', () => {
    const [a, b] = [load(BASE, 1), load(BASE, 2)];
    expect(a.users.map((u) => u.start)).not.toEqual(b.users.map((u) => u.start));
    expect(a.users.every((u) => u.startDrawn)).toBe(true);
    expect(a.containers.every((c) => c.placedBy === 'nearest')).toBe(true);
    expect(scenarioHash(a)).toBe(scenarioHash(b));
    // The seed written in the file is not part of it either.
    expect(scenarioHash(load(`seed: 9\n${BASE}`))).toBe(scenarioHash(a));
  });

  it('anything written changes it: the placement rule, the group size, a fixed start, a fixed node', () => {
    const h = scenarioHash(load(BASE));
    const changed = [
      BASE.replace('placement: nearest', 'placement: random'),
      BASE.replace('placement: nearest', 'placement: round-robin'),
      BASE.replace('count: 6', 'count: 7'),
      BASE.replace('start: random', 'start: { x: 10, y: 20 }'),
      BASE.replace('start: random', 'start: { x: 10, y: 21 }'),
      BASE.replace('placement: nearest', 'placement: { node: n-0-0 }'),
      BASE.replace('placement: nearest', 'placement: { node: n-0-1 }'),
    ].map((t) => scenarioHash(load(t)));
    expect(new Set([h, ...changed]).size).toBe(changed.length + 1);
  });

  it('fixed starts: nothing is drawn, and the hash is sha256 of the resolved scenario without policies, seed, file, output, mode and live', () => {
    const s = load(BASE.replace('start: random', 'start: { x: 10, y: 20 }'), 5);
    expect(s.users.some((u) => u.startDrawn)).toBe(false);
    expect(s.containers.some((c) => c.placedBy)).toBe(false);
    const { policies: _p, seed: _s, file: _f, output: _o, mode: _m, live: _l, ...rest } = s;
    expect(scenarioHash(s)).toBe(createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16));
  });

  it('a placement after a seed-dependent one is seed-dependent too (it takes the memory that is left)', () => {
    const text = BASE.replace(
      '  - { perUser: true, placement: nearest,',
      '  - { perUser: true, groups: [w], placement: random,',
    ).replace('users:\n', 'users:\n  - { id: f, count: 2, start: { x: 10, y: 20 } }\n');
    const withTwo = text.replace(
      'policies: [never]',
      '  - { perUser: true, groups: [f], placement: round-robin, memoryMiB: 64, serviceTime: { kind: exponential, meanMs: 20 } }\npolicies: [never]',
    );
    const s = load(withTwo);
    expect(s.containers.filter((c) => c.users[0].startsWith('w')).every((c) => c.placedBy === 'random')).toBe(true);
    expect(s.containers.filter((c) => c.users[0].startsWith('f')).every((c) => c.placedBy === 'round-robin')).toBe(true);
    expect(scenarioHash(load(withTwo, 3))).toBe(scenarioHash(s));
  });
});
