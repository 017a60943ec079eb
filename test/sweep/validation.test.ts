/**
 * Sweep-file problems: each names the file, the line, the field and what
 * was expected, like a scenario's; paths are checked against the scenario
 * and every overridden scenario against the scenario schema and resolver.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConmigError, type Problem } from '../../src/model/errors.ts';
import { loadSweep } from '../../src/sweep/load.ts';
import { conmig, expectNoStack, FIXTURES, sweepDir } from './helpers.ts';

async function problemsOf(yaml: string): Promise<{ file: string; problems: string[] }> {
  const { file } = sweepDir(yaml);
  try {
    await loadSweep(file);
  } catch (e) {
    if (!isConmigError(e) || e.code !== 'SWEEP_INVALID') throw e;
    return { file, problems: e.problems.map((p: Problem) => `${p.file}: ${p.path}: ${p.message}`) };
  }
  throw new Error('the sweep loaded');
}

const HEAD = 'name: s\nscenarios: [FIXTURES/small.yaml]\n';

describe('sweep file validation', () => {
  it('YAML syntax errors at their line and column', async () => {
    const { file, problems } = await problemsOf(`${HEAD}grid:\n  qosThresholdMs: [50, 100\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${file}:\\d+:\\d+: \\(yaml\\): expected valid YAML, got a syntax error`));
  });

  it('unknown keys with a suggestion; wrong shapes with expected and got', async () => {
    const { file, problems } = await problemsOf(`${HEAD}polcies: [never]\nseeds: 5..1x\ngrid:\n  qosThresholdMs: 50\n`);
    expect(problems).toEqual([
      `${file}:3: polcies: unknown key "polcies" (did you mean "policies"?); expected one of name, description, scenarios, policies, seeds, grid, points`,
      `${file}:4: seeds: expected seeds like 1..30, 1,2,7 or 3..5,9, got "5..1x"`,
      `${file}:6: grid.qosThresholdMs: expected a list of values, got 50`,
    ]);
  });

  it('a bad seed range, duplicate values', async () => {
    const { file, problems } = await problemsOf(`${HEAD}seeds: 5..1\ngrid:\n  qosThresholdMs: [50, 80, 50]\n`);
    expect(problems).toEqual([
      `${file}:3: seeds: bad range "5..1" (expected lo..hi with lo <= hi)`,
      `${file}:5: grid.qosThresholdMs[2]: expected distinct values, got 50 again (also at [0])`,
    ]);
  });

  it('a path that does not resolve names the sweep line, the path and why', async () => {
    const { file, problems } = await problemsOf(
      `${HEAD}grid:\n  users[walkr].mobility.speedMps: [[1, 2]]\n  containers[3].memoryMiB: [64]\n  qosThresholdMss: [50]\n  containers[*]..memoryMiB: [64]\n`,
    );
    const small = path.relative(process.cwd(), path.join(FIXTURES, 'small.yaml'));
    expect(problems).toEqual([
      `${file}:4: grid["users[walkr].mobility.speedMps"]: does not resolve in ${small}: users has no entry with id "walkr" (did you mean "walker"?); ids there: walker, driver`,
      `${file}:5: grid["containers[3].memoryMiB"]: does not resolve in ${small}: containers has 1 entry, no [3]`,
      expect.stringMatching(new RegExp(`^${file}:6: grid.qosThresholdMss: does not resolve in ${small}: unknown key "qosThresholdMss" \\(did you mean "qosThresholdMs"\\?\\)`)),
      `${file}:7: grid["containers[*]..memoryMiB"]: expected a field path like qosThresholdMs, containers[*].memoryMiB or users[walker].mobility.speedMps, got "containers[*]..memoryMiB" (a field name expected at ".memoryMiB")`,
    ]);
  });

  it('a value that does not fit: at the value, with the scenario field it landed in', async () => {
    const { file, problems } = await problemsOf(
      `${HEAD}grid:\n  qosThresholdMs: [50, -5]\n  users[walker].mobility.speedMps:\n    - [1, 2]\n    - 3\n    - [4, 2]\n`,
    );
    const small = path.relative(process.cwd(), path.join(FIXTURES, 'small.yaml'));
    expect(problems).toEqual([
      `${file}:4: grid.qosThresholdMs[1]: expected a positive number, got -5 (${small}: qosThresholdMs)`,
      `${file}:7: grid["users[walker].mobility.speedMps"][1]: expected a range [lo, hi], got 3 (${small}: users[0].mobility.speedMps)`,
      `${file}:8: grid["users[walker].mobility.speedMps"][2]: expected a range [lo, hi] with lo <= hi, got [4, 2] (${small}: users[0].mobility.speedMps)`,
    ]);
  });

  it('a cross-field problem of the overridden scenario (containers that no longer fit)', async () => {
    // (In a flow mapping { ... } a path with [ ] must be quoted: they are YAML's flow brackets.)
    const { file, problems } = await problemsOf(`${HEAD}points:\n  - containers[*].memoryMiB: 5000\n  - { "containers[*].memoryMiB": 64, qosThresholdMs: 80 }\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${file}:4: points\\[0\\]\\["containers\\[\\*\\]\\.memoryMiB"\\]: expected every container to fit on any node \\(5000 MiB each\\)`));
  });

  it('policies and scenarios that are not there', async () => {
    const { file, problems } = await problemsOf(`name: s\nscenarios: [FIXTURES/small.yaml, nowhere.yaml]\npolicies: [never, treshold]\n`);
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${file}:2: scenarios\\[1\\]: expected an existing scenario file, got "nowhere.yaml"`))]);
    const p2 = await problemsOf(`${HEAD}policies: [never, treshold]\n`);
    expect(p2.problems).toEqual([expect.stringMatching(new RegExp(`^${p2.file}:3: policies\\[1\\]: expected one of the scenario's policies \\(never, threshold\\) or a built-in .*got "treshold" \\(did you mean "threshold"\\?\\)`))]);
  });

  it('an invalid base scenario: its own problems at its own lines', async () => {
    const { file, problems } = await problemsOf(`name: s\nscenarios: [FIXTURES/../../fixtures/bad-scenarios/unknown-key.yaml]\n`);
    expect(problems[0]).toMatch(new RegExp(`^${file}:2: scenarios\\[0\\]: expected a valid scenario, got \\S*unknown-key.yaml with \\d+ problem\\(s\\) \\(below\\)$`));
    expect(problems.length).toBeGreaterThan(1);
    for (const p of problems.slice(1)) expect(p).toMatch(/unknown-key\.yaml:\d+: /);
  });

  it('a policy parameter that the policy refuses fails before any run', async () => {
    const { file, problems } = await problemsOf(`${HEAD}points:\n  - policies: [{ name: threshold, params: { nope: 1 } }]\n`);
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${file}:4: points\\[0\\]\\.policies: policy threshold \\(cell 1\\): .*nope: unknown parameter \\(valid: [^)]*\\)$`))]);
  });

  it('conmig sweep: exit 2, the problems, no stack trace', async () => {
    const { file } = sweepDir(`${HEAD}grid:\n  qosThresholdMs: [0]\n`);
    const r = await conmig('sweep', file, '--out', path.join(path.dirname(file), 'out'));
    expectNoStack(r);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`conmig: sweep ${file} is invalid (1 problem)`);
    expect(r.stderr).toContain(`${file}:4: grid.qosThresholdMs[0]: expected a positive number, got 0`);
  });
});
