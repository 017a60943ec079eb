/**
 * The sweep worker as one file: worker-main.ts and everything it imports,
 * bundled with esbuild (the transpiler tsx itself runs on). A worker started
 * from the bundle is ready in about 0.2 s; through tsx's loader, which
 * resolves and transpiles each of its ~150 modules, about 1.5 s. That is
 * paid by every Slurm array task and by every local worker. Tasks on other
 * machines need only Node and the bundle.
 *
 * The bundle is kept in a cache (workerBundle): building it takes 0.2–0.5 s
 * and half a second of CPU in esbuild's process, and a local sweep cannot
 * start its workers before it exists. A cached bundle is used when every
 * file it was built from (esbuild's list of inputs: conmig's modules and the
 * packages it bundles) has the same content as then: about 250 files, 1.5 MB,
 * read and hashed in under 10 ms.
 *
 * Only a custom policy written in TypeScript needs tsx in the worker (it is
 * imported at run time, not bundled): then the worker gets tsx's loader too.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, utimes, readdir, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConmigError } from '../model/errors.ts';
import { selfPackage } from '../run/self.ts';
import type { SweepPlan } from './plan.ts';

// Beside this module: worker-main.ts in the sources, worker-main.js in the compiled dist/.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
export const WORKER_MAIN = fileURLToPath(new URL(`./worker-main${EXT}`, import.meta.url));

/** esbuild's options for the worker bundle, written to `outfile`. */
function buildOptions(outfile: string) {
  return {
    entryPoints: [WORKER_MAIN],
    outfile,
    // metafile input paths are relative to this.
    absWorkingDir: path.dirname(WORKER_MAIN),
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: 'node20',
    // Workers write no report: its chart libraries stay out (run-scenario.ts imports it lazily).
    external: [`../report/index${EXT}`],
    // CommonJS packages in the bundle get a `require` for Node's built-ins.
    banner: { js: "import { createRequire as __conmigRequire } from 'node:module'; const require = __conmigRequire(import.meta.url);" },
    // A custom policy's `import ... from 'conmig'` means the conmig that built the bundle (src/run/self.ts).
    define: { 'process.env.CONMIG_PACKAGE_ENTRY': JSON.stringify(selfPackage().entryUrl) },
    logLevel: 'silent' as const,
    metafile: true,
  };
}

/** Build the bundle into `outFile` (under a temporary name, then renamed); the absolute paths of its inputs. */
async function build(outFile: string): Promise<string[]> {
  const esbuild = await import('esbuild');
  const tmp = `${outFile}.tmp-${process.pid}`;
  try {
    const options = buildOptions(tmp);
    const result = await esbuild.build(options);
    await rename(tmp, outFile);
    return Object.keys(result.metafile?.inputs ?? {}).map((f) => path.resolve(options.absWorkingDir, f));
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new ConmigError('COMMAND_FAILED', `could not bundle the sweep worker into ${outFile}`, { cause });
  }
}

/**
 * sha256 over the inputs' paths and contents; undefined if one of them cannot be read.
 * Read one after another, synchronously: for some 250 small files several times faster
 * than as many reads in the thread pool at once.
 */
function hashInputs(inputs: readonly string[]): string | undefined {
  const h = createHash('sha256');
  try {
    for (const f of inputs) {
      const content = readFileSync(f);
      h.update(`${f}\u0000${content.length}\u0000`).update(content);
    }
  } catch {
    return undefined;
  }
  return h.digest('hex');
}

/** What the cache keeps beside a bundle: the files it was built from and their hash. */
interface BundleManifest {
  schema: 'conmig-worker-bundle/1';
  bundle: string;
  inputs: string[];
  sha256: string;
}

/** A bundle is removed from the cache when no sweep has used it for this long (a sweep touches its bundle). */
const UNUSED_MS = 24 * 3600_000;

/** The cache folder ($XDG_CACHE_HOME/conmig or ~/.cache/conmig); undefined where it cannot be made. */
async function cacheDir(): Promise<string | undefined> {
  const dir = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'conmig');
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * The worker bundle of this conmig, from the cache or built into it (see the top of this file).
 * Where there is no cache folder, a fresh temporary folder holds it and `cleanup` removes it.
 */
export async function workerBundle(): Promise<{ bundle: string; cleanup: () => Promise<void> }> {
  const dir = await cacheDir();
  // A cache folder that cannot be written (read-only home, full disk): as without one.
  const cached = dir ? await fromCache(dir).catch(() => undefined) : undefined;
  if (cached) return cached;
  const tmp = await bundleDir();
  const bundle = path.join(tmp, 'worker.mjs');
  await build(bundle).catch(async (e: unknown) => {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  });
  return { bundle, cleanup: () => rm(tmp, { recursive: true, force: true }) };
}

async function fromCache(dir: string): Promise<{ bundle: string; cleanup: () => Promise<void> }> {
  const noCleanup = async (): Promise<void> => {};
  // One cache entry per conmig installation and build options; its bundle is named by the inputs' hash.
  const key = createHash('sha256').update(JSON.stringify([process.version, buildOptions('')])).digest('hex').slice(0, 16);
  const manifestFile = path.join(dir, `worker-${key}.json`);
  const manifest = await readFile(manifestFile, 'utf8').then((t) => JSON.parse(t) as BundleManifest, () => undefined);
  if (manifest?.schema === 'conmig-worker-bundle/1' && hashInputs(manifest.inputs) === manifest.sha256) {
    const bundle = path.join(dir, manifest.bundle);
    const now = new Date();
    // Touched on use, so pruning (below) keeps what sweeps use.
    if (await utimes(bundle, now, now).then(() => true, () => false)) return { bundle, cleanup: noCleanup };
  }
  const started = Date.now();
  const fresh = path.join(dir, `worker-${key}-${process.pid}-${started}.mjs`);
  // esbuild's own version counts as an input (its package.json, beside its lib/main.js).
  const inputs = [...(await build(fresh)), fileURLToPath(new URL('../package.json', import.meta.resolve('esbuild')))];
  const sha256 = hashInputs(inputs);
  // A file edited while esbuild read it: this bundle may hold the old text, so it is not kept for later sweeps.
  const edited = (await Promise.all(inputs.map((f) => stat(f).then((s) => s.mtimeMs >= started - 1000, () => true)))).some(Boolean);
  if (sha256 === undefined || edited || inputs.length === 0) return { bundle: fresh, cleanup: () => rm(fresh, { force: true }) };
  const name = `worker-${key}-${sha256.slice(0, 16)}.mjs`;
  await rename(fresh, path.join(dir, name));
  const tmpManifest = `${manifestFile}.tmp-${process.pid}`;
  await writeFile(tmpManifest, JSON.stringify({ schema: 'conmig-worker-bundle/1', bundle: name, inputs, sha256 } satisfies BundleManifest));
  await rename(tmpManifest, manifestFile);
  // Bundles of older builds that no sweep has used for a day (never one a running sweep may still start workers from).
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (!f.startsWith('worker-') || f.endsWith('.json') || f === name) continue;
    const p = path.join(dir, f);
    const s = await stat(p).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > UNUSED_MS) await rm(p, { force: true });
  }
  return { bundle: path.join(dir, name), cleanup: noCleanup };
}

/** The worker bundle written to `outFile` (a Slurm submission's copy, in the output folder its tasks can read). */
export async function bundleWorker(outFile: string): Promise<void> {
  const { bundle, cleanup } = await workerBundle();
  try {
    const tmp = `${outFile}.tmp-${process.pid}`;
    await copyFile(bundle, tmp);
    await rename(tmp, outFile);
  } finally {
    await cleanup();
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
 * Without a cache folder: a fresh temporary folder for this sweep's bundle (removed when the
 * sweep ends). Folders left by sweeps that were killed (-9: no cleanup runs) are removed
 * here, when their process is gone.
 */
async function bundleDir(): Promise<string> {
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
