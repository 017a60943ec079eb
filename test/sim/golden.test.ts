/**
 * Golden results: every ready scenario (metro excepted: too big for a unit
 * test; city-grid cut to 120 s) with every policy it lists, on a fixed seed,
 * written with writeRun and compared byte for byte with the files in
 * test/golden/<scenario>/<policy>/.
 *
 * A change that moves any simulated number shows up here. When the change is
 * intended (a model fix, a different random stream), regenerate and review
 * the diff before committing:
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/sim/golden.test.ts
 *   git diff --stat test/golden/
 *
 * The scenario's `file` is set to its repository-relative path so the golden
 * summary.json does not depend on where the checkout lives.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createBuiltinPolicy } from '../../src/model/policies/index.ts';
import type { Scenario } from '../../src/model/types.ts';
import { writeRun } from '../../src/results/write.ts';
import { policyDirName } from '../../src/run/run-scenario.ts';
import { loadScenario } from '../../src/scenario-io/load.ts';
import { simulate } from '../../src/sim/simulator.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GOLDEN = path.join(ROOT, 'test', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** Files compared with the golden copies (the others are checked by the determinism test). */
const COMPARED = ['summary.json', 'timeseries.csv', 'migrations.csv'] as const;
const ALL_FILES = [...COMPARED, 'latency-hist.csv', 'node-load.csv'] as const;

interface Case {
  scenario: string;
  seed: number;
  /** Shortens a scenario so the whole file runs in seconds. */
  adjust?: (s: Scenario) => void;
}

const CASES: Case[] = [
  { scenario: 'shareon-geni', seed: 1 },
  { scenario: 'overload', seed: 1 },
  {
    scenario: 'city-grid',
    seed: 1,
    adjust: (s) => {
      s.durationS = 120;
    },
  },
];

async function load(c: Case): Promise<Scenario> {
  const rel = `scenarios/${c.scenario}.yaml`;
  const s = await loadScenario(path.join(ROOT, rel));
  s.file = rel;
  c.adjust?.(s);
  return s;
}

/** Simulates one policy of a scenario and writes its run folder, as `conmig run` does. */
async function runTo(dir: string, s: Scenario, policyIndex: number, seed: number): Promise<void> {
  const ref = s.policies[policyIndex];
  const result = simulate(s, createBuiltinPolicy(ref), seed);
  result.summary.policy.name = ref.name;
  const { stats: _stats, ...data } = result;
  await writeRun(dir, data);
}

const tmpRoots: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'conmig-golden-'));
  tmpRoots.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(tmpRoots.map((d) => rm(d, { recursive: true, force: true })));
});

describe.each(CASES)('golden results: $scenario (seed $seed)', (c) => {
  it('matches test/golden byte for byte for every policy', async () => {
    const s = await load(c);
    const out = await tmp();
    expect(s.policies.length).toBeGreaterThan(1);
    for (let i = 0; i < s.policies.length; i++) {
      const name = policyDirName(s.policies[i].name);
      const dir = path.join(out, name);
      await runTo(dir, s, i, c.seed);
      const goldenDir = path.join(GOLDEN, c.scenario, name);
      for (const f of COMPARED) {
        const actual = await readFile(path.join(dir, f), 'utf8');
        const goldenFile = path.join(goldenDir, f);
        if (UPDATE) {
          await mkdir(goldenDir, { recursive: true });
          await writeFile(goldenFile, actual);
          continue;
        }
        const golden = await readFile(goldenFile, 'utf8').catch(() => null);
        expect(golden, `${path.relative(ROOT, goldenFile)} is missing: run UPDATE_GOLDEN=1 npx vitest run test/sim/golden.test.ts`).not.toBeNull();
        // toBe on the whole text: a mismatch prints a line diff.
        expect(actual, `${c.scenario}/${name}/${f} differs from the golden copy`).toBe(golden);
      }
    }
  });

  it('gives byte-identical files when run twice', async () => {
    const s = await load(c);
    const last = s.policies.length - 1; // the scenario's most elaborate policy
    const [a, b] = [await tmp(), await tmp()];
    await runTo(a, s, last, c.seed);
    await runTo(b, s, last, c.seed);
    for (const f of ALL_FILES) {
      const [x, y] = await Promise.all([readFile(path.join(a, f)), readFile(path.join(b, f))]);
      expect(x.length).toBeGreaterThan(0);
      expect(x.equals(y), `${f} differs between two runs`).toBe(true);
    }
  });
});
