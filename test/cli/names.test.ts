/**
 * Names never become paths unchecked: a scenario name and policy labels are
 * folder names (letters, digits, _ . -, at most 64, not starting with a dot),
 * checked by validation with the field named; nothing is written outside the
 * output folder; control characters are never echoed raw.
 */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConmigError } from '../../src/model/errors.ts';
import { policyDirName, policyDirs } from '../../src/run/run-scenario.ts';
import { conmig } from '../helpers/cli.ts';

const BASE = path.resolve('scenarios/overload.yaml');

/** A work folder inside a fresh parent, the scenario in it: anything written outside shows in the parent. */
async function workDir(edit: (yaml: string) => string): Promise<{ parent: string; dir: string }> {
  const parent = await mkdtemp(path.join(tmpdir(), 'conmig-names-'));
  const dir = path.join(parent, 'work');
  await (await import('node:fs/promises')).mkdir(dir);
  const yaml = edit((await readFile(BASE, 'utf8')).replace(/^durationS: .*$/m, 'durationS: 20'));
  await writeFile(path.join(dir, 'scenario.yaml'), yaml);
  return { parent, dir };
}

const withName = (name: string) => (y: string) => y.replace(/^name: .*$/m, `name: ${JSON.stringify(name)}`);
const withPolicies = (labels: string[]) => (y: string) =>
  y.replace(/^policies:[^\n]*(\n  - .*)*/m, `policies:\n${labels.map((l) => `  - { name: ${JSON.stringify(l)}, module: ./p.ts }`).join('\n')}`);

describe('names that become folder names', () => {
  it('a scenario name ../../x: exit 2 naming the field; nothing written anywhere', async () => {
    const { parent, dir } = await workDir(withName('../../../../some/where'));
    const r = await conmig(['run', 'scenario.yaml', '--no-progress'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/scenario\.yaml:\d+: name: expected a name usable as a folder name: 1-64 letters, digits, _ \. -, starting with a letter or digit/);
    expect(await readdir(parent)).toEqual(['work']);
    expect(await readdir(dir)).toEqual(['scenario.yaml']);
  });

  for (const [what, labels, field] of [
    ['a label ..', ['never', '..'], 'policies[1].name'],
    ['a label a/b (beside a_b)', ['a_b', 'a/b'], 'policies[1].name'],
    ['a label of 300 characters', ['x'.repeat(300)], 'policies[0].name'],
  ] as const) {
    it(`${what}: exit 2 naming ${field}; nothing written`, async () => {
      const { parent, dir } = await workDir(withPolicies([...labels]));
      await writeFile(path.join(dir, 'p.ts'), "export default { kind: 'conmig-policy', name: 'p', defaults: {}, create: () => ({ name: 'p', params: {}, decide: () => [] }) };\n");
      const r = await conmig(['run', 'scenario.yaml', '--no-progress', '--out', 'out'], { cwd: dir });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${field}: expected a name usable as a folder name`);
      expect(r.stderr).not.toMatch(/ENAMETOOLONG|internal error/);
      expect(await readdir(parent)).toEqual(['work']);
      expect((await readdir(dir)).sort()).toEqual(['p.ts', 'scenario.yaml']);
    });
  }

  it('control characters and ANSI escapes in a name are shown escaped, never raw', async () => {
    const { dir } = await workDir(withName('\u001b[31mred\u0007'));
    const r = await conmig(['validate', 'scenario.yaml'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('\\u001b[31mred\\u0007');
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });

  it('folder names made by policyDirName stay inside the output folder and never collide silently', () => {
    expect(policyDirName('..')).toBe('_..');
    expect(policyDirName('.')).toBe('_.');
    expect(policyDirName('')).toBe('_');
    expect(policyDirName('../../etc')).toBe('.._.._etc');
    expect(policyDirName('y'.repeat(300))).toHaveLength(64);
    for (const label of ['..', '../../etc', '/abs', 'a/b']) expect(path.dirname(policyDirs('/out', [label])[0])).toBe('/out');
    const e = (() => {
      try {
        policyDirs('/out', ['a_b', 'a/b']);
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(ConmigError);
    expect((e as ConmigError).message).toBe('policies "a_b" and "a/b" would write to the same folder a_b: give them different names');
  });

  it('an ANSI escape in an unknown option is quoted escaped by the parser too', async () => {
    const r = await conmig(['run', 'x.yaml', '--\u001b[2J']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unknown option '--\\u001b[2J'");
    expect(r.stderr).not.toContain('\u001b');
  });
});
