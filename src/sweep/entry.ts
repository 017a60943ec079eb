/**
 * The sweep worker as one file: worker-main.ts and everything it imports,
 * bundled with esbuild (the transpiler tsx itself runs on). A worker started
 * from the bundle is ready in about 0.3 s; through tsx's loader, which
 * resolves and transpiles each of its ~150 modules, about 1.5 s. That is
 * paid by every Slurm array task and by every local worker; the bundle takes
 * about half a second to build, in esbuild's own process, while the sweep is
 * being planned. Tasks on other machines need only Node and the bundle.
 *
 * Only a custom policy written in TypeScript needs tsx in the worker (it is
 * imported at run time, not bundled): then the worker gets tsx's loader too.
 */
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConmigError } from '../model/errors.ts';
import { selfPackage } from '../run/self.ts';
import type { SweepPlan } from './plan.ts';

// Beside this module: worker-main.ts in the sources, worker-main.js in the compiled dist/.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
export const WORKER_MAIN = fileURLToPath(new URL(`./worker-main${EXT}`, import.meta.url));

/** Bundle the worker into `outFile` (written under a temporary name, then renamed). */
export async function bundleWorker(outFile: string): Promise<void> {
  const esbuild = await import('esbuild');
  const tmp = `${outFile}.tmp-${process.pid}`;
  try {
    await esbuild.build({
      entryPoints: [WORKER_MAIN],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Workers write no report: its chart libraries stay out (run-scenario.ts imports it lazily).
      external: [`../report/index${EXT}`],
      // CommonJS packages in the bundle get a `require` for Node's built-ins.
      banner: { js: "import { createRequire as __conmigRequire } from 'node:module'; const require = __conmigRequire(import.meta.url);" },
      // A custom policy's `import ... from 'conmig'` means the conmig that built the bundle (src/run/self.ts).
      define: { 'process.env.CONMIG_PACKAGE_ENTRY': JSON.stringify(selfPackage().entryUrl) },
      logLevel: 'silent',
    });
    await rename(tmp, outFile);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new ConmigError('COMMAND_FAILED', `could not bundle the sweep worker into ${outFile}`, { cause });
  }
}

const BUNDLE_DIR = /^conmig-worker-(\d+)-/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A fresh temporary folder for a local sweep's bundle (removed when the sweep
 * ends). Folders left by sweeps that were killed (-9: no cleanup runs) are
 * removed here, when their process is gone.
 */
export async function bundleDir(): Promise<string> {
  const tmp = tmpdir();
  for (const name of await readdir(tmp).catch(() => [] as string[])) {
    const m = BUNDLE_DIR.exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) await rm(path.join(tmp, name), { recursive: true, force: true });
  }
  return mkdtemp(path.join(tmp, `conmig-worker-${process.pid}-`));
}

/** Does any base scenario, or any cell's override, name a custom policy module written in TypeScript? */
export function hasTypeScriptPolicy(plan: SweepPlan): boolean {
  return plan.scenarios.some((s) => /module:\s*['"]?\S+\.[mc]?ts\b/.test(s.text)) || plan.cells.some((c) => /"module":"[^"]*\.[mc]?ts"/.test(JSON.stringify(c.overrides)));
}

/** Node's arguments before the bundle's path: tsx's loader only when a policy module needs it. */
export function workerExecArgv(plan: SweepPlan): string[] {
  return hasTypeScriptPolicy(plan) ? ['--import', import.meta.resolve('tsx/esm')] : [];
}
