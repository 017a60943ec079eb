import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

// vitest links modules itself and forgives what Node's ES-module loader refuses (a named
// import that a CommonJS package does not declare, e.g. ssh2's `utils`): such a module passes
// every in-process test and fails in every real conmig process. Load each one as Node does.
it('every source module loads in a plain Node process (Node resolves the imports, not vitest)', () => {
  const files = sources(path.join(REPO, 'src')).filter((f) => !f.endsWith('main.ts') && !/-main\.ts$/.test(f) && !f.endsWith('worker.ts'));
  expect(files.length).toBeGreaterThan(50);
  const script = `const fails = []; for (const f of ${JSON.stringify(files)}) { try { await import(f); } catch (e) { fails.push(f + ': ' + (e && e.message)); } } if (fails.length) { console.error(fails.join('\\n')); process.exit(1); }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr.trim()).toBe('');
  expect(r.status).toBe(0);
}, 150_000);
