/**
 * The published package for real: `npm pack` (which builds dist/), install the
 * tarball in an empty folder, then use it as an outside project would: run
 * the installed `conmig` (from dist/, no tsx loader, nothing but commander
 * loaded for --help), simulate a scenario with the consumer's own
 * TypeScript policy (loaded through tsx), and type-check that policy against
 * the shipped declarations (`import { definePolicy } from 'conmig'`).
 * It needs the npm registry and takes tens of seconds, so it is a pass of its
 * own in `npm test` (CONMIG_PACKAGE_TEST=1, see vitest.config.ts), not a unit test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';

const work = mkdtempSync(path.join(tmpdir(), 'conmig-pack-'));
const consumer = path.join(work, 'consumer');
const conmigBin = path.join(consumer, 'node_modules', '.bin', 'conmig');
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');

const POLICY = `import { definePolicy, type ClusterView, type MigrationDecision } from 'conmig';

/** Follow the user when the container answers slower than the budget. */
export default definePolicy({
  name: 'follow-when-slow',
  defaults: { budgetMs: 60 },
  decide(view: ClusterView, p): MigrationDecision[] {
    const out: MigrationDecision[] = [];
    for (const c of view.containers) {
      if (c.migrating || !(c.meanResponseMs > p.budgetMs) || c.users.length === 0) continue;
      const to = view.nodesByRtt(c.users[0])[0];
      if (to !== c.nodeId) out.push({ containerId: c.id, to, reason: \`mean \${c.meanResponseMs.toFixed(1)} ms > \${p.budgetMs} ms\` });
    }
    return out;
  },
});
`;

function run(cmd: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CI: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Reports on stderr every module resolved under node_modules (a module.register resolve hook). */
const LOG_RESOLVED =
  "data:text/javascript,import{register}from'node:module';register('data:text/javascript,export async function resolve(s,c,n){const r=await n(s,c);if(r.url.includes(\"/node_modules/\"))process.stderr.write(\"resolved \"+r.url+\"\\\\n\");return r}')";

beforeAll(() => {
  // Packs what `npm publish` would (prepare builds dist/ first).
  execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error('npm pack wrote no tarball');
  execFileSync('mkdir', ['-p', consumer]);
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }) + '\n');
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', path.join(work, tgz)], {
    cwd: consumer,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the npm package', () => {
  it('ships compiled JavaScript with declarations, and no TypeScript sources', () => {
    const pkg = path.join(consumer, 'node_modules', 'conmig');
    const manifest = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    const files = readdirSync(pkg, { recursive: true }).map(String);
    expect(files).toContain(path.join('dist', 'cli', 'main.js'));
    expect(files).toContain(path.join('dist', 'index.d.ts'));
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('conmig --help runs from dist/ and loads nothing but commander (each command loads its code when it runs)', () => {
    const r = run(conmigBin, ['--help'], consumer);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: conmig');
    // What keeps the start fast (~0.15 s on a quiet machine, BENCHMARKS.md): no tsx loader, and
    // none of vega, zod, yaml, ssh2 or stdlib is loaded to print the help.
    const bin = path.join(consumer, 'node_modules', 'conmig', 'bin', 'conmig.js');
    const traced = spawnSync(process.execPath, ['--import', LOG_RESOLVED, bin, '--help'], { cwd: consumer, encoding: 'utf8' });
    expect(traced.status).toBe(0);
    const packages = new Set([...traced.stderr.matchAll(/^resolved .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)].map((m) => m[1]));
    expect([...packages].sort()).toEqual(['commander', 'conmig']);
    expect(traced.stderr).toMatch(/node_modules\/conmig\/dist\/cli\/main\.js/);
  });

  it('simulates a shipped scenario with the consumer\'s own TypeScript policy', () => {
    writeFileSync(path.join(consumer, 'policy.ts'), POLICY);
    const scenario = readFileSync(path.join(consumer, 'node_modules', 'conmig', 'scenarios', 'shareon-geni.yaml'), 'utf8')
      .replace(/^policies:.*$/m, 'policies: [never, { name: mine, module: ./policy.ts }]')
      .replace(/^durationS:.*$/m, 'durationS: 60');
    writeFileSync(path.join(consumer, 'scenario.yaml'), scenario);
    const r = run(conmigBin, ['run', 'scenario.yaml', '--out', 'out', '--no-report', '--no-progress'], consumer);
    expect(r.stderr).not.toMatch(/internal error|^ {4}at /m);
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(path.join(consumer, 'out', 'mine', 'summary.json'), 'utf8')) as { policy: { name: string; params: unknown } };
    expect(summary.policy).toEqual({ name: 'mine', params: { budgetMs: 60 } });
    expect(r.stdout).toMatch(/^mine\s+\d+/m);
  });

  it('import { definePolicy } from \'conmig\' type-checks in a consumer project, and a wrong use does not', () => {
    writeFileSync(path.join(consumer, 'policy.ts'), POLICY);
    writeFileSync(
      path.join(consumer, 'bad.ts'),
      `import { definePolicy } from 'conmig';\nexport default definePolicy({ name: 'bad', defaults: { n: 1 }, decide: (_v, p) => [{ containerId: p.n, to: 'x', reason: '' }] });\n`,
    );
    const tsconfig = (files: string[]): string =>
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [] }, files });
    writeFileSync(path.join(consumer, 'tsconfig.json'), tsconfig(['policy.ts']));
    const good = run(TSC, ['-p', '.'], consumer);
    expect(good.stdout + good.stderr).toBe('');
    expect(good.status).toBe(0);
    writeFileSync(path.join(consumer, 'tsconfig.json'), tsconfig(['bad.ts']));
    const bad = run(TSC, ['-p', '.'], consumer);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toContain("bad.ts(2,86): error TS2322: Type 'number' is not assignable to type 'string'.");
  });
});
