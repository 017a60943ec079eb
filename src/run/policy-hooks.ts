/**
 * Node module hooks that let a user's policy module load from any folder:
 *
 * - `import ... from 'conmig'` resolves to the conmig this process runs
 *   (src/run/self.ts selfPackage), wherever the module is and whether or not
 *   conmig is installed beside it: one instance, so its definePolicy and
 *   ConmigError are the ones the run checks against.
 * - A TypeScript module (.ts, .mts, .tsx) loads as an ES module, with or
 *   without a package.json beside it and whatever its "type" says: where no
 *   TypeScript loader handles it as ESM (compiled conmig, a sweep worker, a
 *   tsx that would take it for CommonJS for want of "type": "module"), it is
 *   transpiled here with esbuild (a dependency already; tsx runs on it too).
 *   Relative imports between such files may be written as TypeScript does
 *   (`./util.js` for util.ts, or without an extension).
 * - `require('conmig')` in a CommonJS module resolves to that same conmig (mapConmigForRequire).
 * - A .js module written as an ES module (import/export) loads as one where
 *   its folder's package.json does not say "type": "module" (or there is
 *   none): Node 20.19 detects that itself, but not where tsx is registered.
 *
 * The hooks run in Node's loader thread, which has no TypeScript loader of
 * its own in every way conmig runs (dist/, sources under tsx, vitest, the
 * bundled sweep worker), so they are registered as JavaScript text.
 */
import Module, { createRequire, register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { selfPackage } from './self.ts';

const HOOKS = String.raw`
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
let entry;
let esbuildUrl;
let esbuild;
export function initialize(data) {
  entry = data.entry;
  esbuildUrl = data.esbuild;
}
function isTs(url) {
  if (!url || !url.startsWith('file:')) return false;
  const p = new URL(url).pathname;
  return /\.(m?ts|tsx)$/.test(p) && !p.endsWith('.d.ts') && !p.includes('/node_modules/');
}
function alternatives(s) {
  const js = /\.(m?)js$/.exec(s);
  if (js) return [s.slice(0, -js[0].length) + '.' + js[1] + 'ts'];
  if (!/\.[A-Za-z0-9]+$/.test(s)) return [s + '.ts', s + '/index.ts'];
  return [];
}
export async function resolve(specifier, context, next) {
  if (specifier === 'conmig') return { url: entry, shortCircuit: true };
  try {
    return await next(specifier, context);
  } catch (e) {
    if (!e || e.code !== 'ERR_MODULE_NOT_FOUND' || !isTs(context.parentURL) || !/^(\.{1,2}\/|\/|file:)/.test(specifier)) throw e;
    for (const alt of alternatives(specifier)) {
      try {
        return await next(alt, context);
      } catch {}
    }
    throw e;
  }
}
function isUserJs(url) {
  if (!url || !url.startsWith('file:')) return false;
  const p = new URL(url).pathname;
  return p.endsWith('.js') && !p.includes('/node_modules/');
}
function isCommonJs(source) {
  try {
    new Script('(function (exports, require, module, __filename, __dirname) {' + source + '\n})');
    return true;
  } catch (e) {
    return !(e instanceof SyntaxError);
  }
}
export async function load(url, context, next) {
  if (isUserJs(url)) {
    const r = await next(url, context);
    if (r.format !== 'commonjs') return r;
    const source = await readFile(fileURLToPath(url), 'utf8');
    return isCommonJs(source) ? r : { format: 'module', source, shortCircuit: true };
  }
  if (!isTs(url)) return next(url, context);
  try {
    const r = await next(url, context);
    if (r.format === 'module' && r.source != null) return r;
  } catch (e) {
    if (!e || e.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
  }
  if (!esbuild) {
    const m = await import(esbuildUrl);
    esbuild = m.transform ? m : m.default;
  }
  const file = fileURLToPath(url);
  const { code } = await esbuild.transform(await readFile(file, 'utf8'), {
    loader: file.endsWith('.tsx') ? 'tsx' : 'ts',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: file,
  });
  return { format: 'module', source: code, shortCircuit: true };
}
`;

let registered = false;

/** Register the hooks in this process (once; later calls do nothing). */
export function registerPolicyHooks(): void {
  if (registered) return;
  registered = true;
  const { entryUrl, rootUrl } = selfPackage();
  const esbuild = pathToFileURL(createRequire(new URL('package.json', rootUrl)).resolve('esbuild')).href;
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { entry: entryUrl, esbuild } });
  mapConmigForRequire(fileURLToPath(entryUrl));
}

type ResolveFilename = (request: string, ...rest: unknown[]) => string;

/**
 * `require('conmig')` in a CommonJS policy (.cjs, or .js that uses require): the hooks above
 * see only ES-module resolution on Node 20 (module.registerHooks, which covers require, is
 * Node 22.15+), so CommonJS resolution is mapped here, to the same entry. Node 20.19+ loads
 * that ES module through require() into the same module instance as import() does, so the
 * policy's definePolicy is the run's own. Module._resolveFilename is internal but stable; it
 * is what module-alias and tsconfig-paths patch.
 */
function mapConmigForRequire(entryFile: string): void {
  const M = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = M._resolveFilename;
  M._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    return request === 'conmig' ? entryFile : original.call(this, request, ...rest);
  };
}
