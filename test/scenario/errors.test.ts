import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatProblems, isConmigError } from '../../src/model/errors.ts';
import { checkScenarioFile, loadScenario } from '../../src/scenario-io/load.ts';
import { parseScenarioText } from '../../src/scenario-io/parse.ts';

const dir = 'test/fixtures/bad-scenarios';

/** The one-line rendering the CLI prints for each problem. */
async function lines(name: string): Promise<string[]> {
  const out = await checkScenarioFile(`${dir}/${name}`);
  expect(out.scenario).toBeUndefined();
  return formatProblems(out.problems).split('\n');
}

describe('problems: one line each, with file, line and field path', () => {
  it('type and range errors, all reported at once', async () => {
    const l = await lines('types.yaml');
    const f = `${dir}/types.yaml`;
    expect(l).toContain(`${f}:2: durationS: expected a positive number, got "long"`);
    expect(l).toContain(`${f}:7: topology.nodes[2].cpuCores: expected a positive integer, got -3`);
    expect(l).toContain(`${f}:7: topology.nodes[2].memoryMiB: expected a positive number, got nothing (the field is missing)`);
    expect(l.some((x) => x.startsWith(`${f}:13: users[0].mobility.kind: expected one of static, random-waypoint`) && x.endsWith('got "teleport"'))).toBe(true);
    expect(l).toHaveLength(5);
  });

  it('unknown keys suggest the closest known key', async () => {
    const l = await lines('unknown-key.yaml');
    const f = `${dir}/unknown-key.yaml`;
    expect(l.some((x) => x.startsWith(`${f}:13: containers[0].servicetime: unknown key "servicetime" (did you mean "serviceTime"?)`))).toBe(true);
    expect(l.some((x) => x.startsWith(`${f}:14: polices: unknown key "polices" (did you mean "policies"?)`))).toBe(true);
  });

  it('an unknown key far from any known key gets no suggestion', () => {
    try {
      parseScenarioText('name: x\ndurationS: 1\nzzzzzzzz: 3\n', 'x.yaml');
      expect.unreachable();
    } catch (e) {
      if (!isConmigError(e)) throw e;
      const p = e.problems.find((q) => q.path === 'zzzzzzzz');
      expect(p?.file).toBe('x.yaml:3');
      expect(p?.message).not.toContain('did you mean');
    }
  });

  it('cross-field errors: ids, references, ranges, coverage, warm-up, linear constants', async () => {
    const l = await lines('references.yaml');
    const f = `${dir}/references.yaml`;
    expect(l).toEqual([
      `${f}:3: warmupS: expected warmupS < durationS (60), got 60`,
      `${f}:6: latency.edgeConstantsMs: expected a constant for every node, missing edge2`,
      `${f}:6: latency.edgeConstantsMs.edge3: expected a node id, got "edge3" (did you mean "edge1"?)`,
      `${f}:13: topology.nodes[2].id: expected a unique node/switch id, got "edge2" again (first at topology.nodes[1].id)`,
      `${f}:15: topology.links[0].b: expected a node or switch id, got "edge9" (did you mean "edge1"?)`,
      `${f}:19: users[0].mobility.speedMps: expected a range [lo, hi] with lo <= hi, got [15, 1]`,
      `${f}:20: users[1]: expected every user to be served by exactly one container, but lonely is served by none`,
      `${f}:22: containers[0].users[1]: expected a user or group id, got "ghost"`,
      `${f}:22: containers[0].node: expected a node id, got "edge7" (did you mean "edge1"?)`,
      `${f}:23: policies[1]: expected a built-in policy (never, nearest, threshold, traffic-aware) or { name, module }, got "treshold" (did you mean "threshold"?)`,
    ]);
  });

  it('memory capacity of the initial placement, naming the containers', async () => {
    const l = await lines('capacity.yaml');
    const f = `${dir}/capacity.yaml`;
    expect(l).toEqual([
      `${f}:13: containers[0].memoryMiB: expected the initial placement to fit node small (1000 MiB), but container camera needs 2000 MiB and 1000 MiB are free`,
      `${f}:15: containers[1].placement: expected every container to fit on node small (300 MiB each), but 2 do not: c-crowd-3, c-crowd-4`,
    ]);
  });

  it('live mode needs a live section; trace files and policy modules must exist', async () => {
    const l = await lines('live-files.yaml');
    const f = `${dir}/live-files.yaml`;
    expect(l[0]).toBe(`${f}:2: mode: expected a live section when mode is live, got none`);
    expect(l[1]).toMatch(new RegExp(`^${f}:9: users\\[0\\]\\.mobility\\.file: expected an existing trace file, got "traces/missing.csv"`));
    expect(l[2]).toMatch(new RegExp(`^${f}:14: policies\\[1\\]\\.module: expected an existing policy module, got "./no-such-policy.ts"`));
    expect(l).toHaveLength(3);
  });

  it('YAML syntax errors name line and column', async () => {
    const l = await lines('syntax.yaml');
    expect(l).toHaveLength(1);
    expect(l[0]).toMatch(/^test\/fixtures\/bad-scenarios\/syntax\.yaml:\d+:\d+: \(yaml\): expected valid YAML, got a syntax error: /);
  });

  it('a duplicate YAML key is a syntax error on its line', () => {
    expect(() => parseScenarioText('name: a\nname: b\n', 'dup.yaml')).toThrow(/scenario dup\.yaml is invalid/);
    try {
      parseScenarioText('name: a\nname: b\n', 'dup.yaml');
    } catch (e) {
      if (!isConmigError(e)) throw e;
      expect(e.problems[0].file).toBe('dup.yaml:2:1');
    }
  });

  it('a missing file is SCENARIO_NOT_FOUND naming the path', async () => {
    await expect(loadScenario('scenarios/no-such.yaml')).rejects.toMatchObject({ code: 'SCENARIO_NOT_FOUND', message: expect.stringContaining('scenarios/no-such.yaml') });
  });

  it('an invalid file throws SCENARIO_INVALID counting the problems', async () => {
    await expect(loadScenario(`${dir}/capacity.yaml`)).rejects.toMatchObject({
      code: 'SCENARIO_INVALID',
      message: `scenario ${dir}/capacity.yaml is invalid (2 problems)`,
    });
  });

  it('every bad fixture is reported at the line the field is on', async () => {
    for (const name of ['types.yaml', 'references.yaml', 'capacity.yaml', 'live-files.yaml']) {
      const text = readFileSync(`${dir}/${name}`, 'utf8').split('\n');
      const out = await checkScenarioFile(`${dir}/${name}`);
      for (const p of out.problems) {
        const line = Number((p.file ?? '').split(':').at(-1));
        const last = p.path.split(/[.[\]]/).filter((s) => s !== '' && !/^\d+$/.test(s)).at(-1) ?? '';
        // The line names the field, or (for a missing field or a list item) its parent's entry.
        expect(line, `${p.file} ${p.path}`).toBeGreaterThan(0);
        expect(text[line - 1].includes(last) || text[line - 1].includes('- '), `${p.file} ${p.path}`).toBe(true);
      }
    }
  });
});
