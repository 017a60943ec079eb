/**
 * A custom policy module in the user's own folder, outside this repository,
 * loads as the README says (`import { definePolicy } from 'conmig'`): .ts or
 * .js, with no package.json beside it, one without "type", or "type": "module"; CommonJS
 * (`require('conmig')`) as .cjs or .js;
 * TypeScript helpers imported as TypeScript does (`./util.js` for util.ts).
 */
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conmig, conmigProcess } from '../helpers/cli.ts';
import { twoEdgeScenario } from '../helpers/scenarios.ts';

const SCENARIO = (modules: Record<string, string>): string =>
  twoEdgeScenario({
    name: 'anywhere', controlIntervalS: 1, edge1Cores: 1, edge2Cores: 4, users: 4, serviceMeanMs: 50,
    policies: Object.entries(modules).map(([name, module]) => `{ name: ${name}, module: ${module}, params: { to: edge2 } }`),
  });

// Moves every container to \`to\` once: the run shows the module really decided.
const POLICY_TS = `import { definePolicy, type MigrationDecision } from 'conmig';
import { reason } from './util.js';
export default definePolicy({
  name: 'move-all',
  defaults: { to: 'edge2' },
  decide(view, p): MigrationDecision[] {
    return view.containers.filter((c) => c.nodeId !== p.to && !c.migrating).map((c) => ({ containerId: c.id, to: p.to, reason: reason(p.to) }));
  },
});
`;
const UTIL_TS = `export function reason(to: string): string { return 'all to ' + to; }\n`;
const POLICY_JS = POLICY_TS.replace(', type MigrationDecision', '').replace('./util.js', './util.mjs').replace('): MigrationDecision[]', ')');
const UTIL_JS = UTIL_TS.replace('to: string): string', 'to)');

// CommonJS: require('conmig') and module.exports, as .cjs and as .js in a folder without "type".
const POLICY_CJS = (util: string): string => `const { definePolicy } = require('conmig');
const { reason } = require('./${util}');
module.exports = definePolicy({
  name: 'move-all',
  defaults: { to: 'edge2' },
  decide(view, p) {
    return view.containers.filter((c) => c.nodeId !== p.to && !c.migrating).map((c) => ({ containerId: c.id, to: p.to, reason: reason(p.to) }));
  },
});
`;
const UTIL_CJS = `exports.reason = (to) => 'all to ' + to;\n`;

/** A CommonJS policy: policy.cjs with util.cjs, or (asJs) policy.js with util.js beside a package.json without "type". */
async function commonJsFolder(root: string, name: string, asJs: boolean): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir);
  const ext = asJs ? 'js' : 'cjs';
  if (asJs) await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'my-policies' }));
  await writeFile(path.join(dir, `policy.${ext}`), POLICY_CJS(`util.${ext}`));
  await writeFile(path.join(dir, `util.${ext}`), UTIL_CJS);
  return `./${name}/policy.${ext}`;
}

const LAYOUTS = ['no package.json', 'package.json without type', 'type: module'] as const;
type Layout = (typeof LAYOUTS)[number];

/** A user's folder (outside the repository) with a policy module and its helper. */
async function userFolder(root: string, name: string, ext: 'ts' | 'js', layout: Layout): Promise<void> {
  const dir = path.join(root, name);
  await mkdir(dir);
  if (layout !== 'no package.json') {
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'my-policies', ...(layout === 'type: module' ? { type: 'module' } : {}) }));
  }
  await writeFile(path.join(dir, `policy.${ext}`), ext === 'ts' ? POLICY_TS : POLICY_JS);
  await writeFile(path.join(dir, ext === 'ts' ? 'util.ts' : 'util.mjs'), ext === 'ts' ? UTIL_TS : UTIL_JS);
}

async function reasons(runDir: string): Promise<string[]> {
  const csv = await readFile(path.join(runDir, 'migrations.csv'), 'utf8');
  return [...new Set(csv.trim().split('\n').slice(1).map((l) => (l.match(/all to edge\d/) ?? ['?'])[0]))];
}

describe('a policy module in any folder (bin/conmig.js: the loader of a real run)', () => {
  it('.ts and .js, with no package.json, one without "type" and "type": "module", and CommonJS (.cjs, .js with require): each loads, gets conmig, decides', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'conmig-user-'));
    const modules: Record<string, string> = {};
    for (const ext of ['ts', 'js'] as const) {
      for (const [i, layout] of LAYOUTS.entries()) {
        const name = `${ext}-${i}`;
        await userFolder(root, name, ext, layout);
        modules[name] = `./${name}/policy.${ext}`;
      }
    }
    modules['cjs'] = await commonJsFolder(root, 'cjs', false);
    modules['cjs-js'] = await commonJsFolder(root, 'cjs-js', true);
    await writeFile(path.join(root, 'scenario.yaml'), SCENARIO(modules));
    const r = conmigProcess(['run', 'scenario.yaml', '--out', 'out', '--no-progress', '--no-report'], { cwd: root });
    expect(r.stderr).not.toMatch(/failed to load|internal error/);
    expect(r.status).toBe(0);
    for (const name of Object.keys(modules)) expect(await reasons(path.join(root, 'out', name))).toEqual(['all to edge2']);
  });

  it('under --seeds (child processes): a .ts policy in a folder whose package.json has no type', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'conmig-user-'));
    await userFolder(root, 'mine', 'ts', 'package.json without type');
    await writeFile(path.join(root, 'scenario.yaml'), SCENARIO({ mine: './mine/policy.ts' }));
    const r = await conmig(['run', 'scenario.yaml', '--seeds', '1,2', '--out', 'out', '--no-progress'], { cwd: root });
    // no seed failed (a warning may count the scenario's own failed requests)
    expect(r.stderr).not.toMatch(/seed \d+ FAILED/);
    expect(r.stderr).toMatch(/seed 1 done/);
    expect(r.stderr).toMatch(/seed 2 done/);
    expect(r.status).toBe(0);
    for (const s of [1, 2]) expect(await reasons(path.join(root, 'out', `seed-${s}`, 'mine'))).toEqual(['all to edge2']);
  });

  it('in a sweep (bundled worker processes): a .ts policy in a folder with no package.json', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'conmig-user-'));
    await userFolder(root, 'mine', 'ts', 'no package.json');
    await writeFile(path.join(root, 'scenario.yaml'), SCENARIO({ mine: './mine/policy.ts', cjs: await commonJsFolder(root, 'cjs', false) }));
    await writeFile(path.join(root, 'sweep.yaml'), 'name: anywhere-sweep\nscenarios: [scenario.yaml]\nseeds: 1..1\n');
    const r = conmigProcess(['sweep', 'sweep.yaml', '--jobs', '1', '--out', 'out'], { cwd: root });
    expect(r.stderr).toContain('0 failed');
    expect(r.status).toBe(0);
    const runs = await readdir(path.join(root, 'out', 'runs'));
    // one run per policy: each run folder holds its policy's folder
    expect(runs).toHaveLength(2);
    const found = (await Promise.all(runs.map(async (id) => (await readdir(path.join(root, 'out', 'runs', id))).filter((f) => f === 'mine' || f === 'cjs').map((f) => path.join(root, 'out', 'runs', id, f))))).flat();
    expect(found.map((f) => path.basename(f)).sort()).toEqual(['cjs', 'mine']);
    for (const dir of found) expect(await reasons(dir)).toEqual(['all to edge2']);
  });
});
