/**
 * Output folders: a path results cannot go to is refused before any work
 * (run --out, compare -o), and a folder holding an earlier run's results is
 * not written over without --force; run.json records which run wrote it.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conmig } from '../helpers/cli.ts';

const SCENARIO = path.resolve('scenarios/overload.yaml');

async function tmp(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'conmig-out-'));
}

async function shortScenario(dir: string): Promise<string> {
  const file = path.join(dir, 'overload.yaml');
  await writeFile(file, (await readFile(SCENARIO, 'utf8')).replace(/^durationS: .*$/m, 'durationS: 20'));
  return file;
}

describe('bad output paths are refused up front', () => {
  it.each([
    ['an existing file', async (d: string) => (await writeFile(path.join(d, 'f.txt'), 'x'), path.join(d, 'f.txt')), /--out .*f\.txt: exists and is a file, not a folder/],
    ['/dev/null', async () => '/dev/null', /--out \/dev\/null: is in \/dev, a virtual file system, not a folder for results/],
    ['a folder under /proc', async () => '/proc/self/conmig-results', /--out \/proc\/self\/conmig-results: is in \/proc, a virtual file system/],
    ['a folder beneath a file', async (d: string) => (await writeFile(path.join(d, 'f.txt'), 'x'), path.join(d, 'f.txt', 'sub')), /--out .*f\.txt\/sub: .*f\.txt is a file, not a folder/],
  ])('run --out %s: exit 2, the reason, nothing simulated', async (_what, make, message) => {
    const d = await tmp();
    const out = await make(d);
    const r = await conmig(['run', await shortScenario(d), '--out', out, '--no-progress']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/requests,|internal error/);
  });

  it('compare -o naming a file: exit 2 before any run is read', async () => {
    const d = await tmp();
    await writeFile(path.join(d, 'f.txt'), 'x');
    const r = await conmig(['compare', 'no-such-a', 'no-such-b', '-o', path.join(d, 'f.txt')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^conmig: -o .*f\.txt: exists and is a file, not a folder/);
  });
});

describe('re-running into a used output folder', () => {
  it('the same run again replaces its results; one that would leave other folders is refused without --force; --force removes only what conmig wrote; run.json says which run', async () => {
    const d = await tmp();
    const file = await shortScenario(d);
    const out = path.join(d, 'out');
    expect((await conmig(['run', file, '--out', out, '--no-progress', '--no-report'])).status).toBe(0);
    const first = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'));
    expect(first).toMatchObject({ format: 'conmig-run/1', conmigVersion: '0.1.0', mode: 'sim', scenario: { name: 'overload' }, seed: 1 });
    expect(first.policies.map((p: { dir: string }) => p.dir)).toEqual((await readdir(out)).filter((n) => n !== 'run.json').sort((a, b) => first.policies.findIndex((p: { dir: string }) => p.dir === a) - first.policies.findIndex((p: { dir: string }) => p.dir === b)));
    const summary = JSON.parse(await readFile(path.join(out, first.policies[0].dir, 'summary.json'), 'utf8'));
    expect(first.scenario.hash).toBe(summary.scenario.hash);
    await writeFile(path.join(out, 'notes.txt'), 'mine');
    await mkdir(path.join(out, 'mine'));

    // The same command again replaces its own results.
    const same = await conmig(['run', file, '--out', out, '--no-progress', '--no-report']);
    expect(same.status).toBe(0);
    expect(JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'))).toEqual(first);

    // A run that would leave the earlier run's other policies beside its own is refused.
    const again = await conmig(['run', file, '--out', out, '--policy', 'never', '--seed', '2', '--no-progress', '--no-report']);
    expect(again.status).toBe(2);
    const others = first.policies.map((p: { dir: string }) => p.dir).filter((d: string) => d !== 'never');
    expect(again.stderr).toMatch(/--out .*out holds results of an earlier run \(scenario overload [0-9a-f]+, seed 1, policies .*\) that this run would not replace/);
    expect(again.stderr).toContain(`(${others.join(', ')}): give --force to remove them, or another --out`);

    const forced = await conmig(['run', file, '--out', out, '--policy', 'never', '--seed', '2', '--no-progress', '--no-report', '--force']);
    expect(forced.status).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['mine', 'never', 'notes.txt', 'run.json']);
    expect(JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8'))).toMatchObject({ seed: 2, policies: [{ name: 'never', dir: 'never' }] });
    expect(existsSync(path.join(out, 'never', 'summary.json'))).toBe(true);
  });
});
