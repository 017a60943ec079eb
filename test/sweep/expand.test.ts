/**
 * Cell expansion and run ids: every combination of the grid (first field
 * outermost), then the points; cell x policy x seed runs; ids from content,
 * recomputed here from their definition.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario-io/load.ts';
import { scenarioHash } from '../../src/cluster/scenario-hash.ts';
import { buildCell, scenarioData } from '../../src/sweep/cell.ts';
import { stableJson } from '../../src/sweep/ids.ts';
import { loadSweep } from '../../src/sweep/load.ts';
import { hasTypeScriptPolicy } from '../../src/sweep/entry.ts';
import { longestFirst } from '../../src/sweep/pool.ts';
import { FIXTURES, ROOT, sweepDir } from './helpers.ts';

const SMALL = path.join(FIXTURES, 'small.yaml');

describe('cell expansion', () => {
  it('grid: every combination, first field outermost; then the points; x policies x seeds', async () => {
    const { file } = sweepDir(`name: e
scenarios: [FIXTURES/small.yaml]
policies: [threshold, never]
seeds: [3, 1]
grid:
  containers[*].memoryMiB: [64, 256, 512]
  qosThresholdMs: [50, 100]
points:
  - qosThresholdMs: 70
  - users[walker].mobility.speedMps: [3, 4]
    warmupS: 0
`);
    const plan = await loadSweep(file);
    expect(plan.parameters).toEqual(['containers[*].memoryMiB', 'qosThresholdMs', 'users[walker].mobility.speedMps', 'warmupS']);
    expect(plan.cells.map((c) => c.overrides.map((o) => o.value))).toEqual([
      [64, 50],
      [64, 100],
      [256, 50],
      [256, 100],
      [512, 50],
      [512, 100],
      [70],
      [[3, 4], 0],
    ]);
    expect(plan.cells.map((c) => c.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(plan.runs).toHaveLength(8 * 2 * 2);
    // Per cell: policies in the sweep's order, each with every seed in the sweep's order.
    expect(plan.runs.slice(0, 4).map((r) => [r.cell, r.policy, r.seed])).toEqual([
      [1, 'threshold', 3],
      [1, 'threshold', 1],
      [1, 'never', 3],
      [1, 'never', 1],
    ]);
    expect(new Set(plan.runs.map((r) => r.id)).size).toBe(plan.runs.length);
  });

  it("each cell's work is its own scenario's users x simulated seconds; a pool takes the most work first, plan order within", async () => {
    const { file } = sweepDir('name: w\nscenarios: [FIXTURES/small.yaml]\nseeds: 1..2\ngrid:\n  durationS: [60, 200, 100]\n  users[walker].count: [14, 40]\n');
    const plan = await loadSweep(file);
    const dir = path.dirname(SMALL);
    for (const c of plan.cells) {
      const s = buildCell(scenarioData(plan.scenarios[0].text), c.overrides, { file: SMALL, resolvePath: (p) => path.resolve(dir, p) }).scenario!;
      expect(c.work, `cell ${c.index}`).toBe(s.users.length * s.durationS);
    }
    const order = longestFirst(plan, plan.runs);
    expect(order).toHaveLength(plan.runs.length);
    // durationS x (walkers + 6 drivers): 200 x 46, 100 x 46, 200 x 20, 60 x 46, 100 x 20, 60 x 20 (cells 4, 6, 3, 2, 5, 1).
    expect([...new Set(order.map((r) => r.cell))]).toEqual([4, 6, 3, 2, 5, 1]);
    for (const cell of [1, 2, 3, 4, 5, 6]) expect(order.filter((r) => r.cell === cell)).toEqual(plan.runs.filter((r) => r.cell === cell));
    // A plan without estimates (an older sweep.json): plan order.
    expect(longestFirst({ ...plan, cells: plan.cells.map(({ work: _w, ...c }) => c) }, plan.runs)).toEqual(plan.runs);
  });

  it("defaults: the scenario's policies and seed, one cell without a grid", async () => {
    const { file } = sweepDir('name: d\nscenarios: [FIXTURES/small.yaml]\n');
    const plan = await loadSweep(file);
    // work: users x simulated seconds (small.yaml: 14 + 6 users, 60 s).
    expect(plan.cells).toEqual([{ index: 1, scenario: 0, overrides: [], work: 20 * 60 }]);
    expect(plan.runs.map((r) => [r.policy, r.seed])).toEqual([
      ['never', 1],
      ['threshold', 1],
    ]);
    expect(plan.scenarios[0]).toMatchObject({ name: 'small', label: `${FIXTURES}/small.yaml`, file: SMALL, text: readFileSync(SMALL, 'utf8') });
  });

  it('the overrides are in the cell scenario: every container, the walker group only', async () => {
    const { file } = sweepDir('name: o\nscenarios: [FIXTURES/small.yaml]\ngrid:\n  containers[*].memoryMiB: [96]\n  users[walker].mobility.speedMps: [[3, 4]]\n');
    const plan = await loadSweep(file);
    const dir = path.dirname(SMALL);
    const built = buildCell(scenarioData(plan.scenarios[0].text), plan.cells[0].overrides, { file: SMALL, resolvePath: (p) => path.resolve(dir, p) });
    const s = built.scenario!;
    expect(s.containers.length).toBe(20);
    expect(new Set(s.containers.map((c) => c.memoryMiB))).toEqual(new Set([96]));
    const speeds = (prefix: string) => new Set(s.users.filter((u) => u.id.startsWith(prefix)).map((u) => JSON.stringify((u.mobility as { speedMps: unknown }).speedMps)));
    expect(speeds('walker-')).toEqual(new Set(['[3,4]']));
    expect(speeds('driver-')).toEqual(new Set(['[5,15]']));
  });

  it('run ids: sha256 of the base scenario hash, overrides, policy and seed; the same from any folder', async () => {
    const yaml = 'name: i\nscenarios: [FIXTURES/small.yaml]\npolicies: [threshold]\nseeds: 2\ngrid:\n  qosThresholdMs: [80]\n';
    const a = await loadSweep(sweepDir(yaml).file);
    const b = await loadSweep(sweepDir(yaml.replace('name: i', 'name: other-name')).file);
    expect(b.runs[0].id).toBe(a.runs[0].id);
    const base = await loadScenario(SMALL);
    const threshold = base.policies.find((p) => p.name === 'threshold')!;
    const expected = createHash('sha256')
      .update(stableJson(['conmig-sweep-run/1', scenarioHash(base), [['qosThresholdMs', 80]], { name: 'threshold', params: threshold.params }, 2]))
      .digest('hex')
      .slice(0, 16);
    expect(a.runs[0].id).toBe(expected);
    // Any part changed: another run.
    const c = await loadSweep(sweepDir(yaml.replace('[80]', '[81]')).file);
    const d = await loadSweep(sweepDir(yaml.replace('seeds: 2', 'seeds: 3')).file);
    const e = await loadSweep(sweepDir(yaml.replace('[threshold]', '[nearest]')).file);
    expect(new Set([a, c, d, e].map((p) => p.runs[0].id)).size).toBe(4);
  });

  it('stableJson: key order does not matter, values do', async () => {
    expect(stableJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(stableJson({ a: 1, b: 2 })).toBe(stableJson({ b: 2, a: 1 }));
    expect(stableJson([1, 2])).not.toBe(stableJson([2, 1]));
  });

  it('two scenarios: every cell on each; the ready example sweep expands', async () => {
    const { file } = sweepDir('name: t\nscenarios: [FIXTURES/small.yaml, FIXTURES/boom.yaml]\npolicies: [never]\ngrid:\n  qosThresholdMs: [50, 100]\n');
    const plan = await loadSweep(file);
    expect(plan.cells.map((c) => [c.scenario, c.overrides[0].value])).toEqual([
      [0, 50],
      [0, 100],
      [1, 50],
      [1, 100],
    ]);
    const example = await loadSweep(path.join(ROOT, 'scenarios/city-grid-sweep.yaml'));
    expect(example.cells).toHaveLength(3 * 2 * 2);
    expect(example.runs).toHaveLength(12 * 4 * 5);
  });
});

describe('the worker', async () => {
  it("gets tsx's loader only when a scenario or a cell names a TypeScript policy module", async () => {
    const plain = await loadSweep(sweepDir('name: a\nscenarios: [FIXTURES/small.yaml]\n').file);
    expect(hasTypeScriptPolicy(plain)).toBe(false);
    const boom = await loadSweep(sweepDir('name: b\nscenarios: [FIXTURES/boom.yaml]\n').file);
    expect(hasTypeScriptPolicy(boom)).toBe(true);
    const viaPoint = await loadSweep(sweepDir(`name: c\nscenarios: [FIXTURES/small.yaml]\npoints:\n  - policies: [{ name: b, module: ${FIXTURES}/boom-policy.ts }]\n`).file);
    expect(hasTypeScriptPolicy(viaPoint)).toBe(true);
  });
});
