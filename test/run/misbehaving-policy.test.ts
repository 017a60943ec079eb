/**
 * A custom policy that misbehaves ends the run with POLICY_FAILED naming the
 * policy, the simulated time and the problem; the policies that finished
 * before it keep their folders, and the message lists them.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conmig, conmigProcess, ROOT } from '../helpers/cli.ts';
import { twoEdgeScenario } from '../helpers/scenarios.ts';

const MISBEHAVING = path.join(ROOT, 'test/fixtures/policies/misbehaving.ts');
const NULL_FACTORY = path.join(ROOT, 'test/fixtures/policies/null-factory.ts');

function scenario(policy: string): string {
  return twoEdgeScenario({ name: 'misbehaving', edge1Cores: 2, edge2Cores: 2, users: 2, serviceMeanMs: 20, policies: ['never', policy] });
}

async function scenarioFile(policy: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'conmig-bad-policy-'));
  const file = path.join(dir, 'scenario.yaml');
  await writeFile(file, scenario(policy));
  return { dir, file };
}

const CASES: Array<[how: string, problem: RegExp]> = [
  ['throw', /decide threw TypeError: cannot read the moon \(at .*misbehaving\.ts:\d+:\d+\)/],
  ['undefined', /decide returned undefined, expected a list of decisions/],
  ['garbage', /decide returned a list whose element 0 is number 42, expected \{ containerId, to, reason \}/],
  ['many', /decide returned 20,000 decisions, more than 1,000/],
  ['loop', /decide did not return within its time budget of 0.5 s \(stopped; --policy-timeout sets the budget\)/],
  ['exit', /called process\.exit\(0\)/],
];

describe('a misbehaving custom policy', () => {
  for (const [how, problem] of CASES) {
    it(`${how}: POLICY_FAILED naming the policy, the simulated time and the problem; the finished run is kept and listed`, async () => {
      const { dir, file } = await scenarioFile(`{ name: bad, module: ${MISBEHAVING}, params: { how: ${how}, afterMs: 5000 } }`);
      const out = path.join(dir, 'out');
      const r = await conmig(['run', file, '--out', out, '--no-progress', '--policy-timeout', how === 'loop' ? '0.5' : '30']);
      expect(r.status).toBe(1);
      const first = r.stderr.split('\n').find((l) => l.startsWith('conmig: ')) ?? '';
      expect(first).toMatch(/^conmig: policy "bad" \(.*misbehaving\.ts\) failed at simulated time 5\.000 s: /);
      expect(first).toMatch(problem);
      expect(r.stderr).toContain(`results kept of never (${path.join(out, 'never')})`);
      expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
      expect(existsSync(path.join(out, 'never', 'summary.json'))).toBe(true);
      expect(existsSync(path.join(out, 'bad'))).toBe(false);
    });
  }

  it('a factory that returns null: POLICY_FAILED before any simulation', async () => {
    const { dir, file } = await scenarioFile(`{ name: nothing, module: ${NULL_FACTORY} }`);
    const r = await conmig(['run', file, '--out', path.join(dir, 'out'), '--no-progress']);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/^conmig: policy "nothing" \(.*null-factory\.ts\) failed: its factory returned null, not a policy with decide\(view\)$/);
  });

  it('--policy-timeout must be seconds in (0, 3600]', async () => {
    const r = await conmig(['run', 'scenarios/overload.yaml', '--policy-timeout', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--policy-timeout: expected seconds in (0, 3600], got "0"');
  });

  it('as a process: a policy calling process.exit(0) ends the run non-zero with the message, the finished run kept', async () => {
    const { dir, file } = await scenarioFile(`{ name: bad, module: ${MISBEHAVING}, params: { how: exit, afterMs: 5000 } }`);
    const out = path.join(dir, 'out');
    const r = conmigProcess(['run', file, '--out', out, '--no-progress']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^conmig: policy "bad" .* failed at simulated time 5\.000 s: called process\.exit\(0\); results kept of never \(.*\)$/m);
    expect(existsSync(path.join(out, 'never', 'summary.json'))).toBe(true);
  });

  it('as a process: process.exit() where conmig does not trap it still never exits 0 silently', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'conmig-bad-policy-'));
    const mod = path.join(dir, 'late-exit.ts');
    // Exits from a timer: after the module has loaded, while the run awaits.
    await writeFile(mod, `import { definePolicy } from 'conmig';\nsetTimeout(() => process.exit(0), 0);\nexport default definePolicy({ name: 'late', defaults: {}, decide: () => [] });\n`);
    const file = path.join(dir, 'scenario.yaml');
    await writeFile(file, scenario(`{ name: late, module: ./late-exit.ts }`).replace('durationS: 20', 'durationS: 600'));
    const r = conmigProcess(['run', file, '--out', path.join(dir, 'out'), '--no-progress']);
    expect(r.status).toBe(70);
    expect(r.stderr).toContain('conmig: the process ended (exit code 0) before the command finished (process.exit() called by a policy module?)');
  });
});
