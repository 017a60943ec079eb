import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConmigError } from '../../src/model/errors.ts';
import { loadInventory } from '../../src/live/inventory.ts';
import { loadTopology } from '../../src/live/testbed/topology.ts';
import { conmig } from '../helpers/cli.ts';

// Scenario files' limits are tested in limits.test.ts; these are the other YAML files conmig reads.
const dir = mkdtempSync(path.join(tmpdir(), 'conmig-yaml-files-'));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
const BILLION_LAUGHS = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  .concat(['b', 'c', 'd', 'e', 'f', 'g'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdef'[i]}`).join(',')}]`))
  .join('\n');

async function rejects(p: Promise<unknown>, code: string): Promise<ConmigError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConmigError);
  expect((e as ConmigError).code).toBe(code);
  return e as ConmigError;
}

describe('every YAML file conmig reads is read within the limits', () => {
  it('a sweep file: alias bomb, undefined alias and /dev/zero are clear errors (exit 2)', async () => {
    for (const [name, text] of [
      ['sweep-bomb.yaml', BILLION_LAUGHS],
      ['sweep-undef.yaml', 'base: *nope\n'],
    ]) {
      const r = await conmig(['sweep', file(name, text)]);
      expect(r.status).toBe(2);
      expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
      expect(r.stderr).toMatch(new RegExp(`${name.replace('.', '\\.')}:\\d+`));
    }
    const dev = await conmig(['sweep', '/dev/zero']);
    expect(dev.status).toBe(2);
    expect(dev.stderr).toContain('expected a regular file');
  });

  it('an inventory and a testbed topology: the same, as their own error codes', async () => {
    const inv = await rejects(loadInventory(file('inv.yaml', BILLION_LAUGHS)), 'INVENTORY_INVALID');
    expect(inv.problems[0].file).toMatch(/inv\.yaml:\d+/);
    expect((await rejects(loadInventory('/dev/zero'), 'INVENTORY_INVALID')).message).toContain('expected a regular file');
    const topo = await rejects(loadTopology(file('topo.yaml', 'nodes: *nope\n')), 'USAGE');
    expect(topo.problems[0].file).toMatch(/topo\.yaml:1/);
  });
});

describe('a file with very many problems', () => {
  it('shows the first 50 and a count of the rest', async () => {
    const text = ['name: many', 'durationS: 10', 'users:', ...Array.from({ length: 300 }, (_, i) => `  - u${i}`)].join('\n');
    const r = await conmig(['validate', file('many-problems.yaml', text)]);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.includes('many-problems.yaml:')).length).toBe(50);
    expect(r.stderr).toMatch(/\.\.\. and \d{3} more problems \(fix these first\)/);
  });
});
